// Package bootcfg is the configuration a keel image carries for its init:
// its schema (the JSON file /etc/keel/config.json, written by the image
// builder) and its reading (that file, then keel.* keys on the kernel
// command line over it, then defaults). The image builder and the init
// share it, so that what one writes the other reads.
//
// Every value is checked here, wherever it comes from: an unknown or
// malformed key is an error naming the key and the offending text, so that
// init can refuse to run a misconfigured app. Secrets (the log credentials)
// never come from the kernel command line, which every process can read.
package bootcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Path is where an image carries its configuration.
const Path = "/etc/keel/config.json"

// Config is what init needs to run an app.
type Config struct {
	App     string   `json:"app"`
	Args    []string `json:"args,omitempty"`
	Env     []string `json:"env,omitempty"` // KEY=VALUE; PATH and HOME (the user's) are added when missing
	Dir     string   `json:"dir,omitempty"`
	User    string   `json:"user,omitempty"`    // name or uid the app runs as; default 65534 (nobody)
	Group   string   `json:"group,omitempty"`   // name or gid; default the user's
	Restart string   `json:"restart,omitempty"` // always, on-failure or never (default)
	Modules []string `json:"modules,omitempty"` // .ko paths in load order, dependencies first; or names under /lib/modules/RELEASE
	Net     string   `json:"net,omitempty"`     // dhcp (default), none or static:ADDR/PREFIX[,GW[,DNS...]] (see ParseNet)
	Logs    *Logs    `json:"logs,omitempty"`    // nil: the console only

	Grace        Duration `json:"grace,omitempty"`         // SIGTERM to SIGKILL at shutdown; default 10s
	FlushTimeout Duration `json:"flush_timeout,omitempty"` // bound of the last delivery of logs; default 10s
	Halt         string   `json:"halt,omitempty"`          // what ends the machine: poweroff (default) or reboot
	// Wait is what the app's start waits for: "network" (default: the
	// network is configured, or failed) or "none" (the app starts as soon
	// as the configuration is read, while modules load and the network
	// comes up; its output waits in memory for the log shipper).
	Wait string `json:"wait,omitempty"`
	// Rlimits are the app's resource limits by prlimit(1) name ("nofile",
	// "core", ...): "N" (soft and hard), "SOFT:HARD", with "unlimited" for
	// either. RLIMIT_NOFILE defaults to DefaultNofile.
	Rlimits map[string]string `json:"rlimits,omitempty"`
	// AppDisk is where the app lives when it is not in the initramfs.
	AppDisk *AppDisk `json:"app_disk,omitempty"`
}

// Logs says where the app's and the boot's events go.
type Logs struct {
	Group     string `json:"group"`               // e.g. keel/dev
	Stream    string `json:"stream"`              // e.g. alice/hello; the boot log goes to STREAM/boot
	Region    string `json:"region,omitempty"`    // default: the instance's region (EC2's IMDSv2), else us-east-1
	Endpoint  string `json:"endpoint,omitempty"`  // default: AWS's endpoint of the region
	Format    string `json:"format,omitempty"`    // json (default) or text
	Image     string `json:"image,omitempty"`     // the "image" of json events, e.g. alice/hello:1.0
	Retention int32  `json:"retention,omitempty"` // days, when the shipper creates the group
	// Credentials is a root-only file in the image, in AWS shared
	// credentials format. Secrets never come from the kernel command line,
	// which every process can read.
	Credentials string `json:"credentials,omitempty"`
	// RedactOff names built-in redaction patterns to turn off (see
	// shipper/redact.Names); Redact adds regular expressions.
	RedactOff []string `json:"redact_off,omitempty"`
	Redact    []string `json:"redact,omitempty"`
	// Multiline groups the app's stack traces into one event: auto
	// (default: Java, Python, Go, Node.js, Ruby), off, or a regular
	// expression that matches the first line of an event.
	Multiline string `json:"multiline,omitempty"`
	// EventMax is the largest event in bytes, from 256 to MaxEvent
	// (the default); longer lines are split into marked parts.
	EventMax int `json:"event_max,omitempty"`
}

// DefaultCredentials is where an image carries its log-writing key.
const DefaultCredentials = "/etc/keel/credentials"

// DefaultUser is the unprivileged uid apps run as unless configured.
const DefaultUser = "65534"

// Defaults of the durations and the app's open-file limit: the kernel's
// 1024/4096 is too low for a server that is the machine's only job.
const (
	DefaultGrace        = 10 * time.Second
	DefaultFlushTimeout = 10 * time.Second
	DefaultNofile       = "65536"
	DefaultRegion       = "us-east-1" // when neither configured nor found by IMDSv2
)

// Marshal encodes c for the image.
func (c Config) Marshal() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// Load reads the configuration file (missing is fine), the kernel command
// line over it, and fills in the defaults. Dotted parameters never reach
// init's argv or environment, so the caller reads the command line from
// /proc/cmdline and passes it here. See ApplyCmdline for the keys.
func Load(file []byte, cmdline string) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(file)) > 0 {
		if err := decodeFile(file, &c); err != nil {
			return c, fmt.Errorf("%s: %w", Path, err)
		}
		// Checked before the command line so that an error names the file.
		if err := c.check(); err != nil {
			return c, fmt.Errorf("%s: %w", Path, err)
		}
	}
	if err := c.ApplyCmdline(cmdline); err != nil {
		return c, err
	}
	c.setDefaults()
	if c.App == "" {
		return c, fmt.Errorf("no app configured: set \"app\" in %s or keel.app= on the kernel command line", Path)
	}
	if l := c.Logs; l != nil && (l.Group == "" || l.Stream == "") {
		return c, fmt.Errorf("logs need both a group and a stream (\"logs\" in %s, or keel.logs.group= and keel.logs.stream=)", Path)
	}
	return c, nil
}

func (c *Config) setDefaults() {
	if c.Net == "" {
		c.Net = "dhcp"
	}
	if c.Restart == "" {
		c.Restart = "never"
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Grace == 0 {
		c.Grace = Duration(DefaultGrace)
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = Duration(DefaultFlushTimeout)
	}
	if c.Halt == "" {
		c.Halt = "poweroff"
	}
	if c.Wait == "" {
		c.Wait = "network"
	}
	if _, ok := c.Rlimits["nofile"]; !ok {
		if c.Rlimits == nil {
			c.Rlimits = map[string]string{}
		}
		c.Rlimits["nofile"] = DefaultNofile
	}
	if l := c.Logs; l != nil {
		if l.Credentials == "" {
			l.Credentials = DefaultCredentials
		}
	}
}

// field is a configuration value and its check, for checkFields.
type field struct {
	name, value string
	check       func(string) error
}

// checkFields checks the values that are set; the error names the field
// and the offending value.
func checkFields(fields []field) error {
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := f.check(f.value); err != nil {
			return fmt.Errorf("%s %q: %w", f.name, f.value, err)
		}
	}
	return nil
}

// check validates the values of a Config read from the file; the error
// names the JSON field and the offending value.
func (c *Config) check() error {
	err := checkFields([]field{
		{"app", c.App, checkAbs},
		{"dir", c.Dir, checkAbs},
		{"restart", c.Restart, checkRestart},
		{"net", c.Net, checkNet},
		{"halt", c.Halt, checkHalt},
		{"wait", c.Wait, checkWait},
	})
	if err != nil {
		return err
	}
	for _, e := range c.Env {
		if err := checkEnv(e); err != nil {
			return fmt.Errorf("env %q: %w", e, err)
		}
	}
	for _, m := range c.Modules {
		if err := checkModule(m); err != nil {
			return fmt.Errorf("modules %q: %w", m, err)
		}
	}
	for name, v := range c.Rlimits {
		if err := checkRlimitName(name); err != nil {
			return fmt.Errorf("rlimits %q: %w", name, err)
		}
		if _, _, err := ParseRlimit(v); err != nil {
			return fmt.Errorf("rlimits %q %q: %w", name, v, err)
		}
	}
	if c.Grace < 0 {
		return fmt.Errorf("grace %v: must not be negative", c.Grace)
	}
	if c.FlushTimeout < 0 {
		return fmt.Errorf("flush_timeout %v: must not be negative", c.FlushTimeout)
	}
	if d := c.AppDisk; d != nil {
		if err := d.check(); err != nil {
			return err
		}
	}
	if l := c.Logs; l != nil {
		return l.check()
	}
	return nil
}

func (l *Logs) check() error {
	err := checkFields([]field{
		{"logs.group", l.Group, checkGroup},
		{"logs.stream", l.Stream, checkStream},
		{"logs.region", l.Region, checkRegion},
		{"logs.endpoint", l.Endpoint, checkEndpoint},
		{"logs.format", l.Format, checkFormat},
		{"logs.credentials", l.Credentials, checkAbs},
	})
	if err != nil {
		return err
	}
	if l.Retention != 0 {
		if err := checkRetention(l.Retention); err != nil {
			return fmt.Errorf("logs.retention %d: %w", l.Retention, err)
		}
	}
	if err := checkRedaction(l.RedactOff, l.Redact); err != nil {
		return fmt.Errorf("logs.redact: %w", err)
	}
	if err := CheckMultiline(l.Multiline); err != nil {
		return fmt.Errorf("logs.multiline: %w", err)
	}
	if l.EventMax != 0 {
		if err := CheckEventMax(l.EventMax); err != nil {
			return fmt.Errorf("logs.event_max: %w", err)
		}
	}
	return nil
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
