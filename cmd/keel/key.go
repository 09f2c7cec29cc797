package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/keelvm/keel/logserver/auth"
)

func runKey(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("missing key subcommand: use 'key create', 'key list' or 'key delete ID'")
	}
	switch args[0] {
	case "create":
		return keyCreate(args[1:])
	case "list":
		return keyList(args[1:])
	case "delete":
		return keyDelete(args[1:])
	}
	return fmt.Errorf("unknown key subcommand %q: use create, list or delete", args[0])
}

const keyCreateAbout = `
Issues an access key for the log server on -data. The running server accepts it
at once, without a restart.

With -group the key may only write: CreateLogStream and PutLogEvents into that
one log group, into streams whose names start with -stream.prefix. Give such a
key to a VM: it can neither read logs nor touch other groups. Without -group the
key has full access.

The key is printed in AWS shared-credentials format, or written to -o (mode 0600).`

func keyCreate(args []string) error {
	fs := newFlags("logserver key create", "logserver key create -name NAME [-group GROUP [-stream.prefix P]] [-o FILE]", keyCreateAbout)
	data := fs.String("data", defaultDataDir(), "data `directory` of the server")
	name := fs.String("name", "", "`name` of the key (shown as the user in access-denied messages)")
	group := fs.String("group", "", "limit the key to writing into this log `group`")
	prefix := fs.String("stream.prefix", "", "with -group: limit the key to streams whose names start with this `prefix`")
	actions := fs.String("actions", "", "with -group: comma-separated operations the key may call (default CreateLogStream,PutLogEvents)")
	out := fs.String("o", "", "write the key as a shared-credentials `file` (mode 0600) instead of printing it")
	profile := fs.String("profile", "default", "profile name in the credentials output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("-name is required: name the key after who will hold it (for example -name vm-hello)")
	}
	if *group == "" && (*prefix != "" || *actions != "") {
		return fmt.Errorf("-stream.prefix and -actions limit a key to one group: give -group too")
	}
	var scope *auth.Scope
	if *group != "" {
		scope = &auth.Scope{Group: *group, StreamPrefix: *prefix}
		if *actions != "" {
			scope.Actions = strings.Split(*actions, ",")
		}
	}
	kr, _, err := openKeyring(*data)
	if err != nil {
		return err
	}
	key, err := kr.Create(*name, scope)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := auth.WriteCredentialsFile(*out, key, *profile); err != nil {
			// Nobody has the key's secret: revoke it, so that the same
			// command with -o fixed does not find the name taken.
			if derr := kr.Delete(key.ID); derr != nil {
				return fmt.Errorf("%w; and revoking the unwritten key %s failed: %v (revoke it with 'keel logserver key delete %s')", err, key.ID, derr, key.ID)
			}
			return err
		}
		fmt.Fprintf(os.Stderr, "key %s (%s) written to %s\n", key.ID, key.Name, *out)
		return nil
	}
	fmt.Print(auth.CredentialsSection(key, *profile))
	return nil
}

func keyList(args []string) error {
	fs := newFlags("logserver key list", "logserver key list [-data DIR]", "Lists the keys of the log server on -data (never their secrets).")
	data := fs.String("data", defaultDataDir(), "data `directory` of the server")
	if err := parse(fs, args); err != nil {
		return err
	}
	kr, _, err := openKeyring(*data)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tACCESS")
	for _, k := range kr.List() {
		access := "admin"
		if k.Scope != nil {
			acts := k.Scope.Actions
			if len(acts) == 0 {
				acts = auth.DefaultActions
			}
			access = fmt.Sprintf("%s on %s/%s*", strings.Join(acts, ","), k.Scope.Group, k.Scope.StreamPrefix)
			if k.Scope.Stream != "" {
				access = fmt.Sprintf("%s on %s/%s and %s/%s/*", strings.Join(acts, ","), k.Scope.Group, k.Scope.Stream, k.Scope.Group, k.Scope.Stream)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Created.Format("2006-01-02 15:04:05Z"), access)
	}
	return tw.Flush()
}

func keyDelete(args []string) error {
	fs := newFlags("logserver key delete", "logserver key delete [-data DIR] KEY_ID", "Revokes a key of the log server on -data; the running server refuses it at once.")
	data := fs.String("data", defaultDataDir(), "data `directory` of the server")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("give exactly one key id (see 'keel logserver key list')")
	}
	kr, _, err := openKeyring(*data)
	if err != nil {
		return err
	}
	if err := kr.Delete(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "key %s deleted\n", fs.Arg(0))
	return nil
}

func openKeyring(data string) (*auth.Keyring, bool, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory %s: %w", data, err)
	}
	kr, created, err := auth.OpenKeyring(data)
	if err == nil && created {
		fmt.Fprintf(os.Stderr, "created admin credentials in %s\n", filepath.Join(data, "credentials"))
	}
	return kr, created, err
}
