package kit

// Fields are a form's fields as its page shows them: which ones a refusal
// concerns, and which one has the focus. The page marks each field in
// error (aria-invalid, and aria-describedby naming the message, whose id is
// FormError), and puts autofocus on the focused one; no script is needed.
//
// The focus goes to the first field in error that must be typed again (one
// shown empty: a password is never written back into a page), else to the
// first field in error, else to the first empty field, else to the first
// field. So a wrong password after a right-looking entity number and
// username focuses the password, which concerns all three; two new
// passwords that differ focus the second.
type Fields struct {
	invalid map[string]bool
	focus   string
}

// FormError is the id of the element that holds a form's refusal: the
// fields in error name it in aria-describedby.
const FormError = "form_error"

// FieldsOf lays out a form whose fields are names, in the page's order.
// shown holds the value each field is shown with (absent or "" for an
// empty one); invalid are the fields the refusal concerns (none: the form
// is shown fresh, or refused for a reason no field holds).
func FieldsOf(names []string, shown map[string]string, invalid ...string) Fields {
	f := Fields{invalid: map[string]bool{}}
	for _, n := range invalid {
		f.invalid[n] = true
	}
	pick := func(ok func(name string) bool) bool {
		for _, n := range names {
			if ok(n) {
				f.focus = n
				return true
			}
		}
		return false
	}
	empty := func(n string) bool { return shown[n] == "" }
	_ = pick(func(n string) bool { return f.invalid[n] && empty(n) }) ||
		pick(func(n string) bool { return f.invalid[n] }) ||
		pick(empty) ||
		pick(func(string) bool { return true })
	return f
}

// Invalid reports whether the refusal concerns the field name.
func (f Fields) Invalid(name string) bool { return f.invalid[name] }

// Focus reports whether the field name has the focus.
func (f Fields) Focus(name string) bool { return f.focus == name }

// Any reports whether the refusal concerns any field.
func (f Fields) Any() bool { return len(f.invalid) > 0 }

// Empty are those of names whose submitted value is "" (after trimming by
// the caller): the fields a "fill in every field" refusal concerns.
func Empty(submitted map[string]string, names ...string) []string {
	var out []string
	for _, n := range names {
		if submitted[n] == "" {
			out = append(out, n)
		}
	}
	return out
}
