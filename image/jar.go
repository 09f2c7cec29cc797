package image

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/keelvm/keel/image/initramfs"
	"github.com/keelvm/keel/image/store"
)

// jreDir is where a JAR's Java runtime goes in the image.
const jreDir = "/app/jre"

// isJar tells a Java archive by its name.
func isJar(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".jar" || ext == ".war"
}

// jarFiles lays out a JAR app: the JAR in /app and a Java runtime in
// /app/jre, run as java -jar. The runtime is -jre's directory, or one
// jlink makes from the host's JDK with the modules jdeps finds, or, when
// that fails, the host's whole JRE (with a note saying why).
func (f Fuse) jarFiles(owner int) ([]initramfs.Entry, store.App, []string, []string, error) {
	app := store.App{Source: f.App, Kind: "jar", Runtime: "java", Path: jreDir + "/bin/java"}
	jarGuest := "/app/" + filepath.Base(f.App)
	nested, err := checkJar(f.App)
	if err != nil {
		return nil, app, nil, nil, err
	}
	var notes []string
	jre := f.JRE
	if jre == "" {
		jre, notes, err = f.hostRuntime(nested)
		if err != nil {
			return nil, app, nil, nil, err
		}
	} else if _, err := os.Stat(filepath.Join(jre, "bin", "java")); err != nil {
		return nil, app, nil, nil, fmt.Errorf("-jre %s: no bin/java in it: give the directory of a Java runtime (its bin/, lib/ and conf/)", jre)
	}
	files, err := copyTree(jre, jreDir, owner, treeOpts{skipDangling: true, notes: &notes, exclude: jdkOnly})
	if err != nil {
		return nil, app, nil, nil, err
	}
	// Java's TLS needs its trust store; a JRE whose cacerts is missing
	// (or was a dangling link) would fail every HTTPS connection.
	cacerts := false
	for _, e := range files {
		if e.Path == jreDir+"/lib/security/cacerts" && e.Kind == initramfs.File {
			cacerts = true
		}
	}
	if !cacerts {
		return nil, app, nil, nil, fmt.Errorf("the Java runtime %s has no lib/security/cacerts (the trust store TLS needs): install ca-certificates-java, or give -jre a runtime that has it", jre)
	}
	files = append(files, initramfs.Entry{Path: jarGuest, Kind: initramfs.File, Mode: 0o644, Source: f.App, UID: max(owner, 0), GID: max(owner, 0)})
	return files, app, []string{"-jar", jarGuest}, notes, nil
}

// jdkOnly leaves out of a runtime what only a JDK's developers use.
func jdkOnly(rel string) bool {
	switch rel {
	case "jmods", "include", "man", "docs", "demo", "sample", "lib/src.zip", "lib/ct.sym":
		return true
	}
	return false
}

// nestedJar matches the libraries of a Spring Boot JAR or of a WAR with
// an embedded server, which jdeps must see too.
var nestedJar = regexp.MustCompile(`^(BOOT-INF/lib|WEB-INF/lib|WEB-INF/lib-provided|lib)/[^/]+\.jar$`)

// checkJar checks that java -jar can run p (a Main-Class in its manifest)
// and returns the names of the JARs inside it.
func checkJar(p string) ([]string, error) {
	z, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("app %s is not a JAR (a zip archive): %w", p, err)
	}
	defer z.Close()
	main := false
	var nested []string
	for _, f := range z.File {
		if f.Name == "META-INF/MANIFEST.MF" {
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("read the manifest of %s: %w", p, err)
			}
			sc := bufio.NewScanner(rc)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "Main-Class:") && strings.TrimSpace(strings.TrimPrefix(sc.Text(), "Main-Class:")) != "" {
					main = true
				}
			}
			rc.Close()
		}
		if nestedJar.MatchString(f.Name) {
			nested = append(nested, f.Name)
		}
	}
	if !main {
		return nil, fmt.Errorf("%s names no Main-Class in META-INF/MANIFEST.MF, so java -jar cannot run it: build an executable JAR (jar --create --file app.jar --main-class NAME ..., or your build tool's equivalent)", p)
	}
	return nested, nil
}

// javaHome finds the host's JDK: $JAVA_HOME, else the one of jlink (or
// java) on the PATH.
func javaHome() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		if _, err := os.Stat(filepath.Join(h, "bin", "java")); err == nil {
			return h, nil
		}
	}
	for _, tool := range []string{"jlink", "java"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		return filepath.Dir(filepath.Dir(real)), nil
	}
	return "", fmt.Errorf("a JAR needs a Java runtime, and this host has none: install a JDK (Debian: apt-get install openjdk-17-jdk-headless), or give -jre DIR")
}

// hostRuntime returns a runtime for the JAR made from the host's JDK:
// jlinked with the modules jdeps finds (cached), or the whole JRE.
func (f Fuse) hostRuntime(nested []string) (string, []string, error) {
	home, err := javaHome()
	if err != nil {
		return "", nil, err
	}
	whole := func(why string) (string, []string, error) {
		return home, []string{fmt.Sprintf("%s: the image gets the whole Java runtime %s instead of a smaller one made with jlink", why, home)}, nil
	}
	jlink, jdeps := filepath.Join(home, "bin", "jlink"), filepath.Join(home, "bin", "jdeps")
	if _, err := os.Stat(jlink); err != nil {
		return whole("this Java has no jlink (a JRE, not a JDK)")
	}
	jmods := filepath.Join(home, "jmods")
	if _, err := os.Stat(jmods); err != nil {
		return whole("this JDK has no jmods directory for jlink")
	}
	mods, err := f.jdepsModules(jdeps, nested)
	if err != nil {
		return whole(err.Error())
	}
	// Service providers no class names, which jdeps cannot see: elliptic
	// curves for TLS (Java 17 keeps them in jdk.crypto.ec; without them
	// most TLS handshakes fail), and the DNS provider of JNDI lookups.
	for _, m := range []string{"jdk.crypto.ec"} {
		if _, err := os.Stat(filepath.Join(jmods, m+".jmod")); err == nil && !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	slices.Sort(mods)
	out, err := f.jlinked(home, jlink, jmods, mods)
	if err != nil {
		return whole(err.Error())
	}
	return out, nil, nil
}

// jdepsModules asks jdeps which JDK modules the JAR (and the JARs inside
// it) need.
func (f Fuse) jdepsModules(jdeps string, nested []string) ([]string, error) {
	args := []string{"--ignore-missing-deps", "--print-module-deps", "-q", "--multi-release", "base"}
	if len(nested) > 0 {
		tmp, err := os.MkdirTemp("", "keel-jdeps-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		paths, err := extract(f.App, nested, tmp)
		if err != nil {
			return nil, err
		}
		args = append(args, paths...)
	}
	args = append(args, f.App)
	out, err := exec.Command(jdeps, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("jdeps could not tell the modules %s needs (%v: %s)", f.App, err, lastLine(out))
	}
	line := lastLine(out)
	var mods []string
	for _, m := range strings.Split(line, ",") {
		if m = strings.TrimSpace(m); m != "" {
			if !regexp.MustCompile(`^[a-z][a-z0-9_.]*$`).MatchString(m) {
				return nil, fmt.Errorf("jdeps answered %q, not a list of modules", line)
			}
			mods = append(mods, m)
		}
	}
	if len(mods) == 0 {
		mods = []string{"java.base"}
	}
	return mods, nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// extract writes the named entries of a zip to dir and returns their
// paths.
func extract(zipPath string, names []string, dir string) ([]string, error) {
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	var out []string
	for i, f := range z.File {
		if !slices.Contains(names, f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", f.Name, zipPath, err)
		}
		p := filepath.Join(dir, strconv.Itoa(i)+"-"+path.Base(f.Name))
		w, err := os.Create(p)
		if err == nil {
			_, err = io.Copy(w, rc)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("extract %s from %s: %w", f.Name, zipPath, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// jlinkOptions make the runtime small: no debug information, man pages or
// C headers, and compressed resources.
var jlinkOptions = []string{"--strip-debug", "--no-man-pages", "--no-header-files", "--compress=2"}

// jlinked returns a runtime with mods made by jlink, from the cache when
// the same JDK made one with the same modules before.
func (f Fuse) jlinked(home, jlink, jmods string, mods []string) (string, error) {
	cache := f.Runtimes
	if cache == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no directory for jlink's runtime: %w", err)
		}
		cache = filepath.Join(c, "keel", "runtimes")
	}
	release, _ := os.ReadFile(filepath.Join(home, "release"))
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\ncds\n", home, release, strings.Join(mods, ","), strings.Join(jlinkOptions, " "))
	if fi, err := os.Stat(filepath.Join(jmods, "java.base.jmod")); err == nil {
		fmt.Fprintf(h, "%d %d\n", fi.Size(), fi.ModTime().UnixNano())
	}
	final := filepath.Join(cache, "jre-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(final, "bin", "java")); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", cache, err)
	}
	tmp, err := os.MkdirTemp(cache, ".jlink-")
	if err != nil {
		return "", fmt.Errorf("create a directory in %s: %w", cache, err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(f.Progress, "  jlink    %s\n", strings.Join(mods, ","))
	args := append([]string{"--module-path", jmods, "--add-modules", strings.Join(mods, ","), "--output", filepath.Join(tmp, "jre")}, jlinkOptions...)
	if out, err := exec.Command(jlink, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("jlink failed (%v: %s)", err, lastLine(out))
	}
	// A class data sharing archive of the runtime's own classes
	// (lib/server/classes.jsa, which the JDK ships and jlink before Java
	// 21 does not make): the JVM maps the classes instead of loading and
	// verifying them, a third less time to main on the host, more under
	// TCG, for 2.5 MB of initramfs. Without it the JVM only starts slower.
	if out, err := exec.Command(filepath.Join(tmp, "jre", "bin", "java"), "-Xshare:dump").CombinedOutput(); err != nil {
		fmt.Fprintf(f.Progress, "  note     the runtime has no class data sharing archive (java -Xshare:dump: %v: %s)\n", err, lastLine(out))
	}
	if err := os.Rename(filepath.Join(tmp, "jre"), final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, "bin", "java")); serr == nil {
			return final, nil // another fuse made it meanwhile
		}
		return "", fmt.Errorf("move jlink's runtime into %s: %w", final, err)
	}
	return final, nil
}
