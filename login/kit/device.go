package kit

import (
	"net/http"

	"github.com/mileusna/useragent"

	"github.com/entity-account/idp/storage"
)

// userAgentMax bounds the part of a User-Agent header that is parsed: the
// browser and system are named in its first few hundred bytes, and an
// anonymous caller must not make us read more.
const userAgentMax = 512

// DeviceOf is where r comes from, as a session opened by it keeps it for
// 已登入的裝置: the client address, and the browser and system its
// User-Agent names in plain words ("Chrome" on "Windows", "Safari" on
// "iPhone"), parsed by github.com/mileusna/useragent (small, no
// dependencies). An Apple phone or tablet is named as such rather than
// "iOS"; other devices by their system (a phone's model code tells a person
// little).
func (k *Kit) DeviceOf(r *http.Request) storage.Device {
	ua := r.UserAgent()
	if len(ua) > userAgentMax {
		ua = ua[:userAgentMax]
	}
	p := useragent.Parse(ua)
	system := p.OS
	switch p.Device {
	case "iPhone", "iPad", "iPod":
		system = p.Device
	}
	return storage.CleanDevice(storage.Device{IP: k.ClientIP(r), Browser: p.Name, System: system})
}
