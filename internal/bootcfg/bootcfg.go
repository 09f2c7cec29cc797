// Package bootcfg is the configuration a keel image carries for its init:
// its schema (the JSON file /etc/keel/config.json, written by the image
// builder) and its reading (that file, then keel.* keys on the kernel
// command line over it). The image builder and the init share it, so that
// what one writes the other reads.
package bootcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Path is where an image carries its configuration.
const Path = "/etc/keel/config.json"

// Config is what init needs to run an app.
type Config struct {
	App     string   `json:"app"`
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"`
	Dir     string   `json:"dir,omitempty"`
	User    string   `json:"user,omitempty"`    // name or uid the app runs as; default 65534 (nobody)
	Group   string   `json:"group,omitempty"`   // name or gid; default the user's
	Restart string   `json:"restart,omitempty"` // always, on-failure or never (default)
	Modules []string `json:"modules,omitempty"` // .ko paths in load order, dependencies first
	Net     string   `json:"net,omitempty"`     // dhcp (default) or none
	Logs    *Logs    `json:"logs,omitempty"`    // nil: the console only
}

// Logs says where the app's and the boot's events go.
type Logs struct {
	Group     string `json:"group"`               // e.g. keel/dev
	Stream    string `json:"stream"`              // e.g. alice/hello; the boot log goes to STREAM/boot
	Region    string `json:"region,omitempty"`    // default us-east-1
	Endpoint  string `json:"endpoint,omitempty"`  // default: AWS's endpoint of the region
	Format    string `json:"format,omitempty"`    // json (default) or text
	Image     string `json:"image,omitempty"`     // the "image" of json events, e.g. alice/hello:1.0
	Retention int32  `json:"retention,omitempty"` // days, when the shipper creates the group
	// Credentials is a root-only file in the image, in AWS shared
	// credentials format. Secrets never come from the kernel command line,
	// which every process can read.
	Credentials string `json:"credentials,omitempty"`
}

// DefaultCredentials is where an image carries its log-writing key.
const DefaultCredentials = "/etc/keel/credentials"

// DefaultUser is the unprivileged uid apps run as unless configured.
const DefaultUser = "65534"

var restarts = map[string]bool{"always": true, "on-failure": true, "never": true}

// Marshal encodes c for the image.
func (c Config) Marshal() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// Load reads the configuration file (missing is fine) and the kernel
// command line over it. Dotted parameters never reach init's argv or
// environment, so the command line is read from /proc/cmdline by the caller
// and passed here. An unknown keel.* key is an error naming it.
func Load(file []byte, cmdline string) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(file)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(file))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s: %w", Path, err)
		}
	}
	for _, kv := range strings.Fields(cmdline) {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "keel.app":
			c.App = v
		case k == "keel.restart":
			if !restarts[v] {
				return c, fmt.Errorf("keel.restart=%q on the kernel command line: use always, on-failure or never", v)
			}
			c.Restart = v
		case k == "keel.user":
			c.User = v
		case k == "keel.net":
			if v != "dhcp" && v != "none" {
				return c, fmt.Errorf("keel.net=%q on the kernel command line: use dhcp or none", v)
			}
			c.Net = v
		case strings.HasPrefix(k, "keel."):
			return c, fmt.Errorf("unknown key %q on the kernel command line (in %q)", k, kv)
		}
	}
	if c.Net == "" {
		c.Net = "dhcp"
	}
	if c.Restart == "" {
		c.Restart = "never"
	}
	if !restarts[c.Restart] {
		return c, fmt.Errorf("%s: restart %q: use always, on-failure or never", Path, c.Restart)
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if l := c.Logs; l != nil {
		if l.Group == "" || l.Stream == "" {
			return c, fmt.Errorf("%s: logs needs both group and stream", Path)
		}
		if l.Region == "" {
			l.Region = "us-east-1"
		}
		if l.Credentials == "" {
			l.Credentials = DefaultCredentials
		}
	}
	if c.App == "" {
		return c, fmt.Errorf("no app configured: set \"app\" in %s or keel.app= on the kernel command line", Path)
	}
	return c, nil
}

// LoadSystem reads Path and /proc/cmdline.
func LoadSystem() (Config, error) {
	file, err := os.ReadFile(Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("read %s: %w", Path, err)
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	return Load(file, string(cmdline))
}
