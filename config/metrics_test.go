package config_test

import (
	"strings"
	"testing"
)

// The metrics listener is off by default; any host:port may be chosen (a
// Prometheus server on an internal network must reach it), but not the
// provider's own address.
func TestMetricsListen(t *testing.T) {
	c, err := load(nil)
	if err != nil || c.MetricsListen != "" {
		t.Fatalf("default IDP_METRICS_LISTEN = %q, %v; want off", c.MetricsListen, err)
	}
	for _, good := range []string{"127.0.0.1:9090", "10.0.0.5:9090", ":9090", "[::1]:9090"} {
		if c, err := load(map[string]string{"IDP_METRICS_LISTEN": good}); err != nil || c.MetricsListen != good {
			t.Errorf("IDP_METRICS_LISTEN=%q refused: %v", good, err)
		}
	}
	for _, bad := range []string{"9090", "localhost", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:8080"} {
		if _, err := load(map[string]string{"IDP_METRICS_LISTEN": bad}); err == nil || !strings.Contains(err.Error(), "IDP_METRICS_LISTEN") {
			t.Errorf("IDP_METRICS_LISTEN=%q accepted (err %v)", bad, err)
		}
	}
}
