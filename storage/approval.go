package storage

// ApprovalState is where one approval QR code of a staff login stands in
// the short-lived store (the in-person approval of a pending 安全驗證碼).
type ApprovalState string

const (
	// ApprovalCurrent: the login's latest approval QR code, not yet used.
	ApprovalCurrent ApprovalState = "current"
	// ApprovalReplaced: the login showed a newer QR code since (or this one
	// expired from the store).
	ApprovalReplaced ApprovalState = "replaced"
	// ApprovalUsed: an officer approved with it already.
	ApprovalUsed ApprovalState = "used"
)
