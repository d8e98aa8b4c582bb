// Package shape holds no code: its test keeps the module's shape from
// drifting (functions short enough to read, handler types small enough to
// name), as measured on every non-test Go file of the module.
package shape
