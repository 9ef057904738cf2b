package auth_test

import (
	"github.com/trackstack/trackstack/runtime/dashboard"
	"github.com/trackstack/trackstack/runtime/dashboard/auth"
)

// The dashboard is built against this package through its Guard interface.
var _ dashboard.Guard = (*auth.Guard)(nil)
