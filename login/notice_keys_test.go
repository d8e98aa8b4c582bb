package login

import (
	"regexp"
	"testing"
)

// Every notice the code composes (notify.Notices: ForStaff, To; the entity
// administration's tell, tellAlsoAccount; the identity tools' ToolEvent)
// names catalogue entry notify_<key>, which has a text in every language:
// otherwise a holder would be sent an empty message.
func TestNoticeKeysHaveTexts(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\btell(?:AlsoAccount)?\(\s*"([a-z][a-z0-9_]*)"(?:\s*,\s*"([a-z][a-z0-9_]*)")?`),
		regexp.MustCompile(`\bForStaff\([^"()\n]*"([a-z][a-z0-9_]*)"`),
		regexp.MustCompile(`\b[Nn]otices\.To\([^"()\n]*"([a-z][a-z0-9_]*)"`),
	}
	toolEvent := regexp.MustCompile(`\bToolEvent\s*=\s*"([a-z][a-z0-9_]*)"`)
	keys := keysInCode(t, []string{"."}, func(src string, found func(key string)) {
		for _, p := range patterns {
			for _, m := range p.FindAllStringSubmatch(src, -1) {
				for _, k := range m[1:] {
					if k != "" {
						found("notify_" + k)
					}
				}
			}
		}
		for _, m := range toolEvent.FindAllStringSubmatch(src, -1) {
			found("notify_tool_" + m[1])
		}
	})
	if len(keys) < 18 {
		t.Fatalf("found only %d notice keys: the patterns no longer match the code", len(keys))
	}
	requireTexts(t, keys, "composes the notice")
}
