package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/keelvm/keel/logs"
)

// runQuery is `keel logs -query`: a Logs Insights query over the app's
// group (its stream only, with APP) or the groups of -group.
func (f *logsFlags) runQuery(app string) error {
	if f.tail {
		return errors.New("-query cannot be combined with -logs.tail: a query reads a time range")
	}
	if f.filter != "" || f.level != "" || f.instance != "" {
		return errors.New("-query replaces -filter, -level and -instance: write them in the query, e.g. 'filter level = \"ERROR\"'")
	}
	switch f.format {
	case "text", "short", "json":
	default:
		return fmt.Errorf("-format=%q: use text or short (a table) or json with -query", f.format)
	}
	var groups []string
	if f.group != "" {
		for _, g := range strings.Split(f.group, ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	} else {
		if f.env == "" || strings.ContainsAny(f.env, " /:*") {
			return fmt.Errorf("-env=%q: an environment is a simple name such as dev or prod", f.env)
		}
		groups = []string{"keel/" + f.env}
	}
	// Narrow to a stream or prefix with a filter in front of the user's
	// query; error locations are shifted back past it.
	prefix := ""
	switch {
	case f.stream != "" && f.prefix != "":
		return errors.New("-stream and -stream.prefix exclude each other")
	case f.stream != "":
		prefix = fmt.Sprintf("filter @logStream = %q | ", f.stream)
	case app != "":
		stream, err := appStream(app, f.user)
		if err != nil {
			return err
		}
		if f.boot {
			stream += "/boot"
		}
		prefix = fmt.Sprintf("filter @logStream = %q | ", stream)
	case f.prefix != "":
		prefix = "filter @logStream =~ /^" + strings.ReplaceAll(regexp.QuoteMeta(f.prefix), "/", `\/`) + "/ | "
	}
	now := time.Now()
	since, err := parseWhen(f.since, now)
	if err != nil {
		return fmt.Errorf("-since: %w", err)
	}
	until := now
	if f.until != "" {
		if until, err = parseWhen(f.until, now); err != nil {
			return fmt.Errorf("-until: %w", err)
		}
	}
	if until.Before(since) {
		return fmt.Errorf("-until (%s) is before -since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, where, err := f.client(ctx)
	if err != nil {
		return err
	}
	q := &logs.Query{Client: client, Groups: groups, Text: prefix + f.query, Start: since, End: until}
	progress := isTerminal(os.Stderr)
	if progress {
		q.Progress = func(status string, scanned, matched int64) {
			fmt.Fprintf(os.Stderr, "\r\033[K%s: %s records scanned, %s matched", status, thousands(scanned), thousands(matched))
		}
	}
	res, err := q.Run(ctx)
	if progress {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		var qe *logs.QueryError
		if errors.As(err, &qe) {
			if qe.Start >= 0 {
				n := len([]rune(prefix))
				qe.Query, qe.Start, qe.End = f.query, max(qe.Start-n, 0), max(qe.End-n, 0)
			}
			return qe
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	if f.format == "json" {
		return res.WriteJSON(os.Stdout)
	}
	return res.WriteTable(os.Stdout)
}

// thousands writes n with comma separators: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
