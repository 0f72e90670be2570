//go:build !cgo

package main

// cgoEnabled says whether this binary was built with cgo, which the server's
// PKCS #11 backend needs.
const cgoEnabled = false
