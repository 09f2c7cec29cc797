package bootcfg

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// referenceDecode is how Load read the file before decodeFile: encoding/json
// by reflection, unknown fields refused.
func referenceDecode(file []byte, c *Config) error {
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return err
	}
	if len(bytes.TrimSpace(file[dec.InputOffset():])) > 0 {
		return errMore
	}
	return nil
}

var errMore = &json.SyntaxError{}

// TestDecodeMatchesEncodingJSON: the init's reflection-free reading of
// the file gives what encoding/json gives, value for value, and fails
// where it fails with the same message (type errors name the key).
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	full := Config{App: "/app/x", Args: []string{"-a", ""}, Env: []string{"A=1"}, Dir: "/d", User: "u", Group: "g",
		Restart: "always", Modules: []string{"/lib/m.ko"}, Net: "static:10.0.0.2/24,10.0.0.1", Grace: Duration(3e9),
		FlushTimeout: Duration(4e9), Halt: "reboot", Wait: "none", Rlimits: map[string]string{"nofile": "1:2"},
		Logs: &Logs{Group: "g", Stream: "s", Region: "eu-west-1", Endpoint: "http://h", Format: "text", Image: "i",
			Retention: 30, Credentials: "/c", RedactOff: []string{"x"}, Redact: []string{"a.b"}, Multiline: "off", EventMax: 1000},
		AppDisk: &AppDisk{FS: "squashfs", Serial: "keel-app", PartName: "keel-app", Size: 1 << 20,
			Modules: []string{"/lib/v.ko"}, Writable: []string{"/app"}, OverlayMB: 32}}
	files := []string{
		string(full.Marshal()),
		`{}`, `{"app":"/a"}`, ` {"app":"/a"} `,
		`{"App":"/a","NET":"dhcp","Flush_Timeout":"1s"}`, // encoding/json matches keys by case folding
		`{"app":"/a","ſtream":1}`,
		`{"app":"/a","logs":{"Group":"g","STREAM":"s"}}`,
		`{"app":null,"args":null,"logs":null,"rlimits":null,"grace":null}`,
		`{"app":"/a","args":["x",null,"y"]}`,
		`{"app":"/a","logs":{"group":"g"},"logs":{"stream":"s"}}`,
		`{"app":"/a","rlimits":{"nofile":"1"},"rlimits":{"core":"0"}}`,
		`{"app":"/a","args":["x"],"args":["y"]}`,
		`{"app":"/a","grace":2.5,"flush_timeout":"1m"}`,
		`{"app":"/a","grace":"soon"}`, `{"app":"/a","grace":true}`, `{"app":"/a","grace":1e300}`, `{"app":"/a","grace":0}`,
		`{"app":1}`, `{"app":true}`, `{"app":["x"]}`, `{"app":{"x":1}}`,
		`{"app":"/a","args":"x"}`, `{"app":"/a","args":[1]}`, `{"app":"/a","rlimits":{"nofile":1}}`, `{"app":"/a","rlimits":[]}`,
		`{"app":"/a","logs":{"retention":"7"}}`, `{"app":"/a","logs":{"retention":1.5}}`, `{"app":"/a","logs":{"retention":99999999999}}`,
		`{"app":"/a","logs":{"event_max":-3}}`, `{"app":"/a","logs":[]}`, `{"app":"/a","logs":"x"}`, `{"app":"/a","logs":{"group":null,"stream":"s"}}`, `{"app":"/a","logs":{"bogus":1}}`,
		`{"app":"/a","bogus":1}`, `[]`, `"x"`, `{"app":"/a"} {"app":"/b"}`, `{"app":"/a"}}`, "{\"app\":\"/a\"}\n]\n",
		`{"app":"/a","app_disk":{"fs":"squashfs","size":"1"}}`, `{"app":"/a","app_disk":[]}`, `{"app":"/a","app_disk":{"bogus":1}}`,
		`{"app":"/a","app_disk":null}`, `{"app":"/a","App_Disk":{"SERIAL":"s","size":2}}`,
		`{"app":"/a",}`, `{"app"}`, `{"app":"/a"`, `{"app":"\u00e9\n"}`,
	}
	for _, f := range files {
		var want, got Config
		werr := referenceDecode([]byte(f), &want)
		gerr := decodeFile([]byte(f), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: encoding/json %v, decodeFile %v", f, werr, gerr)
			continue
		}
		if werr != nil {
			var wt, gt *json.UnmarshalTypeError
			if reflect.TypeOf(werr) == reflect.TypeOf(wt) && reflect.TypeOf(gerr) == reflect.TypeOf(gt) && werr.Error() != gerr.Error() {
				t.Errorf("%s: encoding/json %q, decodeFile %q", f, werr, gerr)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v %+v\n want %+v %+v", f, got, got.Logs, want, want.Logs)
		}
	}
}

// TestDecodeKnowsEveryField: every json key of Config, Logs and AppDisk is
// one the token reader reads, so that a field added to the structs cannot
// be forgotten by the init (it would refuse every image that sets it).
func TestDecodeKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		keys []string
	}{
		{reflect.TypeFor[Config](), configKeys},
		{reflect.TypeFor[Logs](), logsKeys},
		{reflect.TypeFor[AppDisk](), appDiskKeys},
	} {
		for i := range c.typ.NumField() {
			name, _, _ := strings.Cut(c.typ.Field(i).Tag.Get("json"), ",")
			if name == "-" || name == "" {
				continue
			}
			if !slices.Contains(c.keys, name) {
				t.Errorf("%s field %s (json %q) is not read by decodeFile: add it to decode.go", c.typ.Name(), c.typ.Field(i).Name, name)
			}
		}
	}
	// And the full configuration reads back whole.
	full := Config{App: "/a", AppDisk: &AppDisk{FS: "squashfs", Serial: "s", Size: 9, Writable: []string{"/app"}, OverlayMB: 1}}
	var got Config
	if err := decodeFile(full.Marshal(), &got); err != nil || !reflect.DeepEqual(got.AppDisk, full.AppDisk) {
		t.Errorf("app_disk read back as %+v (%v), want %+v", got.AppDisk, err, full.AppDisk)
	}
}
