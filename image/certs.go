package image

import (
	"bytes"
	"os"
	"path"
	"strings"

	"github.com/keelvm/keel/image/elfdeps"
	"github.com/keelvm/keel/image/initramfs"
)

// opensslCerts returns links that make OpenSSL find the CA bundle: it
// looks in its OPENSSLDIR (built into libcrypto: "/usr/lib/ssl" on Debian,
// whose cert.pem and certs are links to /etc/ssl/...), not at
// /etc/ssl/certs, where Go looks. Python's ssl.create_default_context()
// loads OPENSSLDIR/cert.pem; without it, it trusts nothing.
func opensslCerts(plan elfdeps.Plan, have map[string]bool) []initramfs.Entry {
	var out []initramfs.Entry
	seen := map[string]bool{}
	for _, l := range plan.Libs {
		if !strings.HasPrefix(l.Name, "libcrypto.so") {
			continue
		}
		b, err := os.ReadFile(l.Host)
		if err != nil {
			continue
		}
		i := bytes.Index(b, []byte(`OPENSSLDIR: "`))
		if i < 0 {
			continue
		}
		rest := b[i+len(`OPENSSLDIR: "`):]
		j := bytes.IndexByte(rest, '"')
		if j <= 0 || j > 256 {
			continue
		}
		dir := path.Clean(string(rest[:j]))
		if !path.IsAbs(dir) || seen[dir] || dir == "/etc/ssl" {
			continue
		}
		seen[dir] = true
		for name, target := range map[string]string{"cert.pem": HostCABundle, "certs": path.Dir(HostCABundle)} {
			if p := path.Join(dir, name); !have[p] {
				out = append(out, initramfs.Entry{Path: p, Kind: initramfs.Symlink, Mode: 0o777, Data: []byte(target)})
			}
		}
	}
	return out
}
