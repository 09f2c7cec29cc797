package supervisor

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// identity is who the app runs as.
type identity struct {
	cred *syscall.Credential // nil: the supervisor's own identity
	home string
}

// resolveIdentity turns the configured user and group (names or numbers;
// "user:group" in userSpec also works) into a credential. An empty user
// keeps the supervisor's identity. A numeric user without an /etc/passwd
// entry (minimal images often have none) runs with gid = uid unless a group
// is given.
func resolveIdentity(userSpec, groupSpec string) (identity, error) {
	if u, g, ok := strings.Cut(userSpec, ":"); ok && groupSpec == "" {
		userSpec, groupSpec = u, g
	}
	id := identity{home: "/"}
	if userSpec == "" && groupSpec == "" {
		return id, nil
	}
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	var groups []uint32
	if userSpec != "" {
		u, err := lookupUser(userSpec)
		if err != nil {
			return id, err
		}
		if u.uid, err = parseID(u.Uid); err != nil {
			return id, badUser("user %q: uid %q: %v", userSpec, u.Uid, err)
		}
		uid = u.uid
		gid = uid
		if g, err := parseID(u.Gid); err == nil && u.Gid != "" {
			gid = g
		}
		if u.HomeDir != "" {
			id.home = u.HomeDir
		}
		if u.found {
			// Supplementary groups from /etc/group; none is fine.
			if ids, err := u.GroupIds(); err == nil {
				for _, s := range ids {
					if g, err := parseID(s); err == nil && g != gid {
						groups = append(groups, g)
					}
				}
			}
		}
	}
	if groupSpec != "" {
		g, err := lookupGroup(groupSpec)
		if err != nil {
			return id, err
		}
		gid = g
	}
	if os.Geteuid() != 0 {
		// Only root may switch; an unprivileged supervisor (tests, a
		// container) may still name itself.
		if uid == uint32(os.Geteuid()) && gid == uint32(os.Getegid()) {
			return id, nil
		}
		return id, badUser("cannot switch to uid %d gid %d: the supervisor runs as uid %d, not root", uid, gid, os.Geteuid())
	}
	// Groups is set even when empty: setgroups then drops root's groups.
	id.cred = &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}
	if id.cred.Groups == nil {
		id.cred.Groups = []uint32{}
	}
	return id, nil
}

type userEntry struct {
	*user.User
	uid   uint32
	found bool // in the user database (not just a number)
}

func lookupUser(spec string) (userEntry, error) {
	if _, err := parseID(spec); err == nil {
		if u, err := user.LookupId(spec); err == nil {
			return userEntry{User: u, found: true}, nil
		}
		return userEntry{User: &user.User{Uid: spec, Gid: spec}}, nil
	}
	u, err := user.Lookup(spec)
	if err != nil {
		return userEntry{}, badUser("user %q: %v", spec, err)
	}
	return userEntry{User: u, found: true}, nil
}

func lookupGroup(spec string) (uint32, error) {
	if g, err := parseID(spec); err == nil {
		return g, nil
	}
	g, err := user.LookupGroup(spec)
	if err != nil {
		return 0, badUser("group %q: %v", spec, err)
	}
	n, err := parseID(g.Gid)
	if err != nil {
		return 0, badUser("group %q: gid %q: %v", spec, g.Gid, err)
	}
	return n, nil
}

// parseID parses a uid or gid; 4294967295 is (uid_t)-1, "no change".
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, err
	}
	if n == 1<<32-1 {
		return 0, fmt.Errorf("%d is reserved", n)
	}
	return uint32(n), nil
}

func badUser(format string, args ...any) error {
	return &StartError{Kind: ErrBadUser, Detail: fmt.Sprintf(format, args...)}
}
