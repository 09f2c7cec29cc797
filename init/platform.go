package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/keelvm/keel/internal/bootcfg"
)

// platform is what init brings up around the app: modules, network, the
// power button, the boot log, the instance's identity and the log
// shippers. It runs in its own goroutine so that the app need wait only
// for what it needs (by default the network: keel.wait).
type platform struct {
	cfg   bootcfg.Config
	power chan struct{} // presses of the ACPI power button

	netDone    chan struct{} // closed when the network is configured or failed
	appStarted chan struct{} // closed by markStarted
	startOnce  sync.Once
	done       chan struct{} // closed when everything is up; ships is set then

	appLog *heldLog  // the app's events until its shipper exists; nil: console only
	ships  *shippers // nil: console only
}

func newPlatform(cfg bootcfg.Config) *platform {
	p := &platform{cfg: cfg, power: make(chan struct{}, 1), netDone: make(chan struct{}),
		appStarted: make(chan struct{}), done: make(chan struct{})}
	if cfg.Logs != nil {
		// A few seconds of a chatty app's output while the network comes up.
		p.appLog = newHeldLog(100_000, 16<<20)
	}
	return p
}

// bringUp runs in its own goroutine; it never panics out.
func (p *platform) bringUp() {
	netClosed := false
	defer func() {
		if r := recover(); r != nil {
			logf("bring-up stopped: %v", r)
			if p.appLog != nil && p.ships == nil {
				p.appLog.drop()
			}
		}
		if !netClosed {
			close(p.netDone)
		}
		close(p.done)
	}()
	cfg := p.cfg
	if !ownsMachine {
		// A container's drivers, network and power are its host's and
		// its runtime's.
		logf("network: the container's, as its runtime set it up (modules and keel.net=%s are for VMs)", cfg.Net)
		close(p.netDone)
		netClosed = true
		<-p.appStarted
		p.settle(true, -1)
		return
	}
	if cfg.Wait == "none" {
		// The app needs neither drivers nor network to start: its exec
		// goes first.
		<-p.appStarted
	}
	if len(cfg.Modules) > 0 {
		// A missing driver shows up as a network failure next; the
		// step's message says which module failed.
		_ = step(fmt.Sprintf("load %d modules", len(cfg.Modules)), func() error { return loadModules(cfg.Modules) })
	}
	// Watched from here on, so that a stop asked for while the network
	// comes up is seen (and the app is not started); it needs the button
	// and evdev modules, loaded just now. It costs a TCG guest 13 to 31 ms
	// of the boot; done in a goroutine beside the network step instead, it
	// made the app start no sooner (six boots each, one vCPU).
	buttons := watchPowerButton(p.power)
	netOK := step("network ("+cfg.Net+")", func() error { return network(cfg.Net, p.appStarted) }) == nil
	if !netOK {
		logf("continuing without network")
	}
	if cfg.Net == "none" || !netOK {
		seedHosts(nil)
	}
	close(p.netDone)
	netClosed = true

	// What follows does not delay the app: it waits until the app runs.
	<-p.appStarted
	p.settle(netOK, buttons)
}

// settle does the housekeeping that waits for the app's start: the boot
// log, the instance's identity and the log shippers; and it says when no
// power button is watched (buttons < 0: none was looked for).
func (p *platform) settle(netOK bool, buttons int) {
	cfg := p.cfg
	boot := &bootRecords{err: errNotOwnKernel}
	if ownsMachine {
		boot = collectBootLog()
	}
	if buttons == 0 {
		logf("no ACPI power button found (modules button and evdev?): stop requests from the hypervisor will not be seen")
	}
	if cfg.Logs == nil {
		time.Sleep(50 * time.Millisecond) // let the boot log reader catch up for its summary
		boot.summary()
		return
	}
	instance, region := identify(netOK && cfg.Net == "dhcp")
	ships, err := startShippers(cfg.Logs, instance, region)
	if err != nil {
		logf("logs: %v; the app's output goes to the console only", err)
		p.appLog.drop()
		boot.summary()
		return
	}
	logf("logs: shipping to group %s, streams %s and %s/boot (instance %s)", cfg.Logs.Group, cfg.Logs.Stream, cfg.Logs.Stream, instance)
	if n := initLog.attach(ships.boot); n > 0 {
		logf("logs: %d of init's lines did not fit in memory before the shipper started", n)
	}
	boot.attach(ships.boot)
	if n := p.appLog.attach(ships.app); n > 0 {
		logf("logs: %d of the app's lines did not fit in memory (16 MiB) before the shipper started: they were on the console only", n)
	}
	p.ships = ships
	boot.summary()
}

// markStarted says the app started (or will not): the rest of the
// bring-up may go on.
func (p *platform) markStarted() { p.startOnce.Do(func() { close(p.appStarted) }) }

// shutdown flushes the shippers within d, waiting (within d) for the
// bring-up first: an app that ended at once may have beaten the network.
func (p *platform) shutdown(d time.Duration) {
	deadline := time.Now().Add(d)
	p.markStarted()
	if p.cfg.Logs == nil {
		return
	}
	select {
	case <-p.done:
	case <-time.After(time.Until(deadline)):
		logf("logs: the network and the shippers were not up within the flush timeout of %v: the app's output is on the console only", d)
		p.appLog.drop()
		return
	}
	if p.ships != nil {
		logf("flushing logs")
		p.ships.close(time.Until(deadline))
	}
}
