package main

import (
	"fmt"
	"maps"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/keelvm/keel/bootcfg"
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

	// What IMDS said of the instance (set before netDone closes);
	// imdsOK: it answered.
	md     metadata
	imdsOK bool
	// userDataErr is a refused user data setting (set before netDone
	// closes): the machine powers off, as for the command line.
	userDataErr error
	// lateLogs are the logs settings with user data applied, when
	// keel.wait=none started the app first (p.cfg stays as it was).
	lateLogs *bootcfg.Logs

	// mu guards cfg, appLog and lateLogs while the bring-up may still
	// write them (before netDone closes): shutdown reads them under it
	// when the bring-up did not get that far within the flush timeout.
	// After netDone closes they no longer change.
	mu sync.Mutex
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
	mods := skipAbsentVirtio(cfg.Modules)
	if len(mods) > 0 {
		// A missing driver shows up as a network failure next; the
		// step's message says which module failed.
		_ = step(fmt.Sprintf("load %d modules", len(mods)), func() error { return loadModules(mods) })
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
	p.md, p.imdsOK = identify(netOK && cfg.Net == "dhcp")
	if p.imdsOK && p.md.userData != nil {
		p.applyUserData()
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
	if p.lateLogs != nil {
		cfg.Logs = p.lateLogs
	}
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
	if !ownsMachine {
		p.md = metadata{instance: hostname()}
	}
	instance, region := p.md.instance, p.md.region
	creds, err := logCredentials(cfg.Logs)
	if err == nil && p.noCredentials(creds) {
		logf("logs: %s", noIMDSLine)
		p.appLog.drop()
		boot.summary()
		return
	}
	if err == nil && creds.role && checkRole(creds, cfg.Logs, regionOf(cfg.Logs, region)) {
		p.appLog.drop()
		boot.summary()
		return
	}
	var ships *shippers
	if err == nil {
		ships, err = startShippers(cfg.Logs, creds, instance, region)
	}
	if err != nil {
		logf("logs: %v; the app's output goes to the console only", err)
		p.appLog.drop()
		boot.summary()
		return
	}
	logf("logs: shipping to group %s, streams %s and %s/boot (instance %s, credentials: %s)", cfg.Logs.Group, cfg.Logs.Stream, cfg.Logs.Stream, instance, creds.what)
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

// applyUserData applies the instance's user data over the configuration
// (launch-time settings win). It runs before the app starts, unless
// keel.wait=none started it first: the app's own settings then come too
// late, and only the logs' apply.
func (p *platform) applyUserData() {
	c := p.cfg
	if c.Logs != nil {
		l := *c.Logs
		c.Logs = &l
	}
	c.Args = append([]string(nil), c.Args...)
	c.Env = append([]string(nil), c.Env...)
	c.Modules = append([]string(nil), c.Modules...)
	c.Rlimits = maps.Clone(c.Rlimits)
	if err := c.ApplyUserData(p.md.userData); err != nil {
		p.userDataErr = err
		if p.cfg.Wait == "none" {
			// The app runs already: stop the machine, in order.
			logf("configuration: %v: stopping the machine", err)
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
		return
	}
	if p.cfg.Wait == "none" {
		// The app runs already, its output going where p.appLog said
		// when it started: p.cfg and p.appLog are not replaced.
		late, msg := lateUserData(p.cfg.Logs, c.Logs)
		p.mu.Lock()
		p.lateLogs = late
		p.mu.Unlock()
		logf("user data: %s", msg)
		return
	}
	p.mu.Lock()
	if c.Logs != nil && p.appLog == nil {
		p.appLog = newHeldLog(100_000, 16<<20)
	}
	p.cfg = c
	p.mu.Unlock()
	logf("user data: applied")
}

// noCredentials says whether the shippers' credentials would never come:
// a VM's instance role is their source (no key file in the image) and no
// IMDS answered (VirtualBox; QEMU outside keel run). Shippers would wait
// for them, and so would every shutdown, for the whole flush timeout.
func (p *platform) noCredentials(c credSource) bool {
	return c.role && ownsMachine && !p.imdsOK
}

// noIMDSLine says why an image with logs but neither a key file nor IMDS
// ships nothing.
const noIMDSLine = "no IMDS answered and the image has no key file: the app's output stays on the console; " +
	"on a hypervisor without IMDS fuse with -logs.credentials FILE"

// lateUserData is what keel.wait=none makes of user data's logs settings
// (userLogs: the image's with user data applied), read after the app
// started: they apply to an image that ships logs (its app's output is
// held for the shipper); an image without logs started its app with the
// output on the console only, so logs that user data adds are ignored,
// and the line says so.
func lateUserData(imageLogs, userLogs *bootcfg.Logs) (late *bootcfg.Logs, msg string) {
	const why = "keel.wait=none started the app before the network and its user data"
	switch {
	case imageLogs != nil:
		return userLogs, "applied to the logs only: " + why
	case userLogs != nil:
		return nil, "ignored, logs included: " + why + ", its output going to the console only as the image has no logs; " +
			"fuse the image with -logs.group and -logs.stream, or launch without keel.wait=none"
	}
	return nil, "ignored: " + why
}

// markStarted says the app started (or will not): the rest of the
// bring-up may go on.
func (p *platform) markStarted() { p.startOnce.Do(func() { close(p.appStarted) }) }

// shutdown flushes the shippers within d, waiting (within d) for the
// bring-up first: an app that ended at once (or a stop asked for while
// the network came up) may have beaten the network, and the user data
// read with it may set the logs.
func (p *platform) shutdown(d time.Duration) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	deadline := time.Now().Add(d)
	p.markStarted()
	p.mu.Lock()
	anyLogs := p.cfg.Logs != nil || p.lateLogs != nil
	p.mu.Unlock()
	if !anyLogs {
		// Nothing to flush, and no wait for the network: user data (which
		// may add logs) is applied before the app starts, so an app that
		// ran had its logs by now, and a stop asked for before the app's
		// start has no output of the app's to flush. Waiting here would
		// hold that stop for the network (5 s without a NIC), which the
		// stop is meant to cut short; the bring-up writes what it writes
		// under p.mu, so it may go on while the machine powers off.
		return
	}
	notUp := func() {
		p.mu.Lock()
		logs, held := p.cfg.Logs != nil || p.lateLogs != nil, p.appLog
		p.mu.Unlock()
		if logs && held != nil {
			logf("logs: the network and the shippers were not up within the flush timeout of %v: the app's output is on the console only", d)
			held.drop()
		}
	}
	select {
	case <-p.netDone:
	case <-timeout.C:
		notUp()
		return
	}
	// The bring-up writes p.cfg and p.appLog only before netDone closes.
	if p.cfg.Logs == nil {
		return
	}
	select {
	case <-p.done:
	case <-timeout.C:
		notUp()
		return
	}
	if p.ships != nil {
		logf("flushing logs")
		p.ships.close(time.Until(deadline))
	}
}
