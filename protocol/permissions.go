package protocol

import (
	"fmt"
	"slices"
)

// MaxPermissions bounds the permissions one node may declare.
const MaxPermissions = 64

// Check applies the limits of a node's declared text to its permissions:
// at most MaxPermissions, each name 1 to MaxListItemLen bytes of text
// CheckText accepts. The error names the permission.
func (p Permissions) Check() error {
	if len(p) > MaxPermissions {
		return &FieldError{Field: "permissions", Err: fmt.Errorf("%d permissions, more than the %d allowed", len(p), MaxPermissions)}
	}
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if k == "" || len(k) > MaxListItemLen {
			return &FieldError{Field: "permissions", Err: fmt.Errorf("a permission name must be 1 to %d bytes", MaxListItemLen)}
		}
		if err := CheckText(k); err != nil {
			return &FieldError{Field: "permissions[" + Printable(k) + "]", Err: err}
		}
	}
	return nil
}
