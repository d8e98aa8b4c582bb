package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// The portal's layout as a browser draws it: the navigation folds away on
// a phone, and the two lists of the assignment pages have the width their
// names need on a desktop.

// phone emulates a 390 px phone, desktop a 1280 px screen.
func (c *chrome) phone() {
	c.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
}

func (c *chrome) desktop() { c.do("emulate a desktop", chromedp.EmulateViewport(1280, 900)) }

// visibleNavLinks counts the links of the portal navigation a person sees
// (checkVisibility: not in a folded <details>, whose content the browser
// lays out on demand all the same).
const visibleNavLinks = `[...document.querySelectorAll("nav.account-nav a")].filter(a => {
	const r = a.getBoundingClientRect();
	return r.width > 0 && r.height > 0 && a.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
}).length`

// axLinks are the names of the links in the page's accessibility tree, as
// a screen reader finds them (what a folded <details> hides is not there).
func (c *chrome) axLinks() map[string]bool {
	c.t.Helper()
	links := map[string]bool{}
	c.do("read the accessibility tree", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			return err
		}
		for _, n := range res.Nodes {
			var role, name string
			if n.Ignored || n.Role == nil || n.Name == nil || json.Unmarshal(n.Role.Value, &role) != nil || role != "link" {
				continue
			}
			if json.Unmarshal(n.Name.Value, &name) == nil {
				links[name] = true
			}
		}
		return nil
	}))
	return links
}

// TestBrowserPhoneNavCollapses: on a 390 px phone an admin's navigation
// (nine links and the sign-out) is folded behind one menu control, so the
// page's heading comes right after the header; the control opens it without
// script, and its links are there to follow. On a 1280 px desktop the links
// show at once and the control does not.
func TestBrowserPhoneNavCollapses(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	T := messages(t, "zh-Hant")
	c := newChrome(t)
	c.portalSignIn(idp.issuer, idp.demo.EntityNumber, admin.Username, admin.Password)

	c.phone()
	for _, path := range []string{"/account", "/account/entities", "/account/admins"} {
		c.open(idp.issuer + path)
		if n := eval[int](c, visibleNavLinks); n != 0 {
			t.Errorf("%s at 390 px: %d navigation links show before the menu is opened", path, n)
		}
		// The header (44 px), the menu control (44 px) and the signed-in
		// line fit in 240 px; four lines of links did not.
		if top := eval[float64](c, `document.querySelector("h1").getBoundingClientRect().top`); top > 240 {
			t.Errorf("%s at 390 px: the heading starts %.0f px down, want at most 240", path, top)
		}
		summary := eval[[]float64](c, `(s => s ? [s.getBoundingClientRect().width, s.getBoundingClientRect().height] : [])(document.querySelector("details.menu > summary"))`)
		if len(summary) != 2 || summary[0] < 44 || summary[1] < 44 {
			t.Fatalf("%s at 390 px: the menu control is %v, want a visible control of 44 × 44 px\n%s", path, summary, c.where())
		}
	}
	if c.axLinks()[T["nav_staff"]] {
		t.Error("at 390 px the folded menu's links are in the accessibility tree")
	}
	// Opened (a <summary> needs no script), the links are there.
	c.do("open the menu", chromedp.Click(`details.menu > summary`, chromedp.NodeVisible))
	if n := eval[int](c, visibleNavLinks); n < 9 {
		t.Errorf("the opened menu shows %d links, want the admin's 9", n)
	}
	if !c.axLinks()[T["nav_staff"]] {
		t.Error("the opened menu's links are not in the accessibility tree")
	}
	if got := eval[string](c, `document.querySelector("details.menu > summary").textContent.trim()`); got != T["account_menu"] {
		t.Errorf("the menu control says %q, want %q", got, T["account_menu"])
	}
	c.follow(T["nav_entities"])
	if got := c.text("h1"); got != T["nav_entities"] {
		t.Errorf("the menu's 實體列表 led to %q", got)
	}

	c.desktop()
	c.open(idp.issuer + "/account")
	if n := eval[int](c, visibleNavLinks); n < 9 {
		t.Errorf("at 1280 px %d navigation links show, want the admin's 9 without opening anything", n)
	}
	// Shown, they are also there for a screen reader (not only painted).
	for _, key := range []string{"nav_entities", "nav_staff", "nav_admins", "nav_changes"} {
		if !c.axLinks()[T[key]] {
			t.Errorf("at 1280 px the link %q is not in the accessibility tree", T[key])
		}
	}
	if shown := eval[bool](c, `(s => s.getBoundingClientRect().height > 0)(document.querySelector("details.menu > summary"))`); shown {
		t.Error("at 1280 px the menu control shows, though the links are there")
	}
}

// wrappedWordsJS lists, for the two lists' entries, each word (a run
// without spaces: a username, an EUID, a Chinese name) that the browser
// broke over two lines, and each entry wider than its list.
const wrappedWordsJS = `(() => {
	const out = [];
	for (const li of document.querySelectorAll("ul.picks li")) {
		const box = li.closest("fieldset").getBoundingClientRect();
		const r = li.getBoundingClientRect();
		if (r.right > box.right + 0.5 || li.scrollWidth > li.clientWidth + 1) out.push("overflows: " + li.textContent.trim());
		const walk = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			for (const m of n.data.matchAll(/\S+/g)) {
				const range = document.createRange();
				range.setStart(n, m.index);
				range.setEnd(n, m.index + m[0].length);
				const tops = new Set([...range.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
				if (tops.size > 1) out.push("broken: " + m[0]);
			}
		}
	}
	return out;
})()`

// TestBrowserTwoListsFit: at 1280 px the two lists of 服務管理員列表, of
// 移除工作人員登入號的管理員的權限 and of a group's 工作人員登入號列表 give
// each entry the width it needs: no username, EUID or name is broken over
// two lines, and no entry is wider than its list.
func TestBrowserTwoListsFit(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	// Names as long as people's get: a Chinese name of ten characters, a
	// Portuguese one of forty; a login not yet activated shows its EUID twice.
	for i, name := range []string{"歐陽測試員工十九之二號", ""} {
		sl := storage.StaffLogin{EntityID: idp.demoEntity(t).ID, NameZH: name, NameForeign: "FERNANDES DA SILVA, Maria Conceição Lopes",
			IDDocType: storage.IDMacauPermanent, IDDocNumber: []string{"1234567(8)", "7654321(0)"}[i], IDDocIssuePlace: "澳門",
			BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+8536600990" + string(rune('1'+i)), Language: "zh-Hant"}
		if err := idp.app.pg.CreateStaffLogin(context.Background(), operator(), &sl); err != nil {
			t.Fatal(err)
		}
	}
	c := newChrome(t)
	c.portalSignIn(idp.issuer, idp.demo.EntityNumber, admin.Username, admin.Password)
	c.desktop()
	for _, path := range []string{"/account/service-admins", "/account/admins", "/account/services/" + demoService + "/groups/admin"} {
		c.open(idp.issuer + path)
		if n := eval[int](c, `document.querySelectorAll("ul.picks li").length`); n < 4 {
			t.Fatalf("%s: %d entries in the two lists\n%s", path, n, c.where())
		}
		if bad := eval[[]string](c, wrappedWordsJS); len(bad) > 0 {
			t.Errorf("%s at 1280 px:\n  %s", path, strings.Join(bad, "\n  "))
		}
	}
}
