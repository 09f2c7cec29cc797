package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
)

// Linux input event constants (linux/input-event-codes.h).
const (
	evKey      = 1
	keyPower   = 116
	inputEvent = 24 // sizeof(struct input_event) on 64-bit: timeval, type, code, value
)

// watchPowerButton reports presses of the ACPI power button, which is how
// QEMU's system_powerdown, VirtualBox's ACPI shutdown and EC2's
// StopInstances ask a machine to stop: a key event, not a signal. It needs
// the button and evdev modules. It returns how many buttons it watches.
func watchPowerButton(pressed chan<- struct{}) int {
	names, _ := filepath.Glob("/sys/class/input/event*/device/name")
	n := 0
	for _, nameFile := range names {
		b, err := os.ReadFile(nameFile)
		if err != nil || !strings.Contains(string(b), "Power Button") {
			continue
		}
		dev := "/dev/input/" + filepath.Base(filepath.Dir(filepath.Dir(nameFile)))
		f, err := os.Open(dev)
		if err != nil {
			logf("power button %s: %v", dev, err)
			continue
		}
		n++
		go func() {
			defer func() {
				if r := recover(); r != nil {
					logf("power button reader stopped: %v", r)
				}
			}()
			buf := make([]byte, inputEvent*16)
			for {
				k, err := f.Read(buf)
				if err != nil {
					logf("power button %s: %v", dev, err)
					return
				}
				for off := 0; off+inputEvent <= k; off += inputEvent {
					ev := buf[off : off+inputEvent]
					typ := binary.LittleEndian.Uint16(ev[16:])
					code := binary.LittleEndian.Uint16(ev[18:])
					value := int32(binary.LittleEndian.Uint32(ev[20:]))
					if typ == evKey && code == keyPower && value == 1 {
						select {
						case pressed <- struct{}{}:
						default:
						}
					}
				}
			}
		}()
	}
	return n
}
