package deploy

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar shows an upload: a bar redrawn in place on a terminal, a
// plain line every 10% otherwise (logs and pipes get no control codes).
type progressBar struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	step  int // the last 10% reported
	drawn bool
}

func newProgressBar(w io.Writer, tty bool) *progressBar {
	return &progressBar{w: w, tty: tty, start: time.Now()}
}

func (p *progressBar) update(done, total int, bytes int64) {
	rate := float64(bytes) / 1e6 / max(time.Since(p.start).Seconds(), 1e-3)
	if p.tty {
		if time.Since(p.last) < 100*time.Millisecond && done < total {
			return
		}
		p.last = time.Now()
		const width = 30
		n := width * done / max(total, 1)
		fmt.Fprintf(p.w, "\r  uploading [%s%s] %d/%d blocks %.1f MB/s ", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total, rate)
		p.drawn = true
		return
	}
	if s := 10 * done / max(total, 1); s > p.step || done == total && p.step < 10 {
		p.step = s
		fmt.Fprintf(p.w, "  uploading: %d/%d blocks (%d%%), %.1f MB sent, %.1f MB/s\n", done, total, 100*done/max(total, 1), float64(bytes)/1e6, rate)
	}
}

func (p *progressBar) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
