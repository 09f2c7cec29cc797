//go:build race

package main

// raceEnabled: the race detector makes the test binary (which doubles as
// keel) several times slower and larger, so speed and memory bounds are
// checked only without it.
const raceEnabled = true
