package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStart is a process's start time in clock ticks since boot (field 22
// of /proc/PID/stat): with the pid, it names one process for good, where a
// pid alone may be reused after it ends. 0: no such process.
func procStart(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // field 3 on
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// keelRunID names this keel run in records and key names: "PID.START".
func keelRunID() string { return fmt.Sprintf("%d.%d", os.Getpid(), procStart(os.Getpid())) }

// runAlive tells whether the keel run a record or key names ("PID.START",
// or a bare PID from before start times were recorded) is still running.
func runAlive(id string) bool {
	pidText, startText, withStart := strings.Cut(id, ".")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if withStart {
		start, err := strconv.ParseUint(startText, 10, 64)
		return err == nil && start != 0 && procStart(pid) == start
	}
	return isKeelRun(pid)
}
