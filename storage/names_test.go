package storage

import "testing"

// TestNamesIn: a page shows a name in its language; without a translation
// Portuguese pages show the Chinese name, and English pages the Portuguese
// one (Latin script an English reader can read) before the Chinese.
func TestNamesIn(t *testing.T) {
	full := Names{ZH: "管理員", PT: "Administrador", EN: "Administrator"}
	noEN := Names{ZH: "管理員", PT: "Administrador"}
	onlyZH := Names{ZH: "管理員"}
	for _, c := range []struct {
		n          Names
		lang, want string
	}{
		{full, "zh-Hant", "管理員"}, {full, "pt", "Administrador"}, {full, "en", "Administrator"},
		{noEN, "zh-Hant", "管理員"}, {noEN, "pt", "Administrador"}, {noEN, "en", "Administrador"},
		{onlyZH, "zh-Hant", "管理員"}, {onlyZH, "pt", "管理員"}, {onlyZH, "en", "管理員"},
		{Names{ZH: "示範電子服務", EN: "Demo e-service"}, "pt", "示範電子服務"},
	} {
		if got := c.n.In(c.lang); got != c.want {
			t.Errorf("%+v.In(%s) = %q, want %q", c.n, c.lang, got, c.want)
		}
	}
	// A group and an e-service choose alike.
	g := Group{NameZH: "操作員", NamePT: "Operador"}
	s := Service{NameZH: "操作員", NamePT: "Operador"}
	if g.Names().In("en") != "Operador" || s.Names().In("en") != "Operador" {
		t.Errorf("group %q, e-service %q in English", g.Names().In("en"), s.Names().In("en"))
	}
}
