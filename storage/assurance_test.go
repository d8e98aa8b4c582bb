package storage

import "testing"

func TestLevels(t *testing.T) {
	for _, c := range []struct {
		acr  string
		want Level
		ok   bool
	}{{ACRPassword, LevelPassword, true}, {ACRTool, LevelTool, true}, {"urn:other", LevelNone, false}, {"", LevelNone, false}} {
		got, ok := LevelOfACR(c.acr)
		if got != c.want || ok != c.ok {
			t.Errorf("LevelOfACR(%q) = %v, %v; want %v, %v", c.acr, got, ok, c.want, c.ok)
		}
		if ok && got.ACR() != c.acr {
			t.Errorf("%v.ACR() = %q", got, got.ACR())
		}
	}
	for l, want := range map[Level]bool{LevelNone: true, LevelPassword: true, LevelTool: true, -1: false, LevelTool + 1: false} {
		if l.Known() != want {
			t.Errorf("Level(%d).Known() = %v", l, !want)
		}
	}
	if l, ok := LowestKnownLevel([]string{"x", ACRTool, ACRPassword}); !ok || l != LevelPassword {
		t.Errorf("LowestKnownLevel = %v, %v", l, ok)
	}
	if _, ok := LowestKnownLevel([]string{"x", "y"}); ok {
		t.Error("LowestKnownLevel of unknown values found one")
	}
	for _, c := range []struct {
		amr  []string
		want Level
	}{
		{[]string{AMRPassword}, LevelPassword},
		{[]string{AMRPassword, AMROTP, AMRMulti}, LevelTool},
		{[]string{AMRHardwareKey, AMRUser, AMRMulti}, LevelTool},
		{[]string{AMROTP}, LevelNone},
		{nil, LevelNone},
	} {
		if got := LevelOfAMR(c.amr); got != c.want {
			t.Errorf("LevelOfAMR(%v) = %v, want %v", c.amr, got, c.want)
		}
	}
}
