package filterpattern

import "testing"

// Benchmark messages of about 200 bytes, the size of a typical log line.
const (
	benchText  = `2024-05-01T12:00:00.123Z [worker-7] ERROR request_id=5f2a9c1e-1b7d-4c1a-9e0f-3d2b6a8c4e11 path=/api/v1/orders status=503 latency_ms=1532 msg="upstream connect error or disconnect/reset before headers"`
	benchJSON  = `{"time":"2024-05-01T12:00:00.123Z","level":"ERROR","service":"orders","request":{"id":"5f2a9c1e","path":"/api/v1/orders","method":"POST"},"status":503,"latency":1532.5,"tags":["edge","eu-west-1"],"retry":true}`
	benchSpace = `203.0.113.42 - frank [10/Oct/2000:13:55:36 -0700] "GET /api/v1/orders/12345/items?expand=price HTTP/1.1" 503 2326 "https://example.com/checkout" "Mozilla/5.0 (X11; Linux x86_64)" 0.153`
)

func benchMatch(b *testing.B, pattern, msg string, want bool) {
	p, err := Compile(pattern)
	if err != nil {
		b.Fatal(err)
	}
	if p.Match(msg) != want {
		b.Fatalf("Match = %v, want %v", !want, want)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.Match(msg)
	}
}

func BenchmarkMatchTerms(b *testing.B) {
	benchMatch(b, `ERROR "upstream connect" -DEBUG ?never`, benchText, true)
}

func BenchmarkMatchJSON(b *testing.B) {
	benchMatch(b, `{ $.level = "ERROR" && ($.status >= 500 || $.request.path = "/api/*") && $.tags[*] = "eu-*" }`, benchJSON, true)
}

func BenchmarkMatchSpaceDelimited(b *testing.B) {
	benchMatch(b, `[ip, user, username, timestamp, request = "*/orders/*", status_code = 5* || status_code = 4*, bytes > 1000, ...]`, benchSpace, true)
}

func BenchmarkMatchRegex(b *testing.B) {
	benchMatch(b, `%status=5\d\d%`, benchText, true)
}

func BenchmarkMatchRegexNoLiteral(b *testing.B) {
	benchMatch(b, `%[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}%`, benchText, true)
}

func BenchmarkCompileJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(`{ $.level = "ERROR" && ($.status >= 500 || $.request.path = "/api/*") && $.tags[*] = "eu-*" }`); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTermsMatchDoesNotAllocate holds the zero-allocation promise for
// unstructured patterns, regex terms included.
func TestTermsMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		// sync.Pool drops a quarter of what it is given under the race
		// detector, regexp's machines included: counts mean nothing.
		t.Skip("allocation counts are meaningless under -race; make test runs this test without it")
	}
	for _, src := range []string{`ERROR "upstream connect" -DEBUG`, `?never ?ERROR`, `%status=5\d\d% -DEBUG`, `" "`} {
		p, err := Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		p.Match(benchText) // warm regexp's machine pool
		if n := testing.AllocsPerRun(100, func() { p.Match(benchText) }); n != 0 {
			t.Errorf("Compile(%q).Match allocates %v times per call", src, n)
		}
	}
}
