package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// configPath is where the image carries the app's configuration.
const configPath = "/etc/keel/config.json"

// config is what init needs to run the app.
type config struct {
	App     string   `json:"app"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Dir     string   `json:"dir"`
	Modules []string `json:"modules"` // .ko paths in load order, dependencies first
	Net     string   `json:"net"`     // dhcp (default) or none
}

// loadConfig reads the image's configuration, then keel.app=... from the
// kernel command line over it (dotted parameters never reach init's argv
// or environment, so /proc/cmdline is the only way to see them).
func loadConfig() (config, error) {
	var c config
	b, err := os.ReadFile(configPath)
	if err != nil && !os.IsNotExist(err) {
		return c, fmt.Errorf("read %s: %w", configPath, err)
	}
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s: %w", configPath, err)
		}
	}
	if cmdline, err := os.ReadFile("/proc/cmdline"); err == nil {
		for _, kv := range strings.Fields(string(cmdline)) {
			k, v, _ := strings.Cut(kv, "=")
			switch {
			case k == "keel.app":
				c.App = v
			case k == "keel.net":
				if v != "dhcp" && v != "none" {
					return c, fmt.Errorf("keel.net=%q: use dhcp or none", v)
				}
				c.Net = v
			case strings.HasPrefix(k, "keel."):
				return c, fmt.Errorf("unknown key %q on the kernel command line (in %q)", k, kv)
			}
		}
	}
	if c.Net == "" {
		c.Net = "dhcp"
	}
	if c.App == "" {
		return c, fmt.Errorf("no app configured: set \"app\" in %s or keel.app= on the kernel command line", configPath)
	}
	return c, nil
}
