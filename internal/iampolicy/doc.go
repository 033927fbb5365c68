// Package iampolicy parses IAM policy documents and evaluates requests
// against them: Effect, Action/NotAction and Resource/NotResource with
// wildcards, Principal/NotPrincipal (trust policies), the common condition
// operators (String*, Arn*, Numeric*, Bool, Null, with ...IfExists and the
// ForAnyValue:/ForAllValues: set qualifiers) and AWS's rule that an
// explicit Deny wins over any Allow. It is pure: no I/O, no clock.
package iampolicy
