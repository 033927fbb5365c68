package eks

import (
	"slices"
	"time"
)

// Version is one Kubernetes version EKS offers.
type Version struct {
	Version         string
	ReleaseDate     time.Time
	EndOfStandard   time.Time
	EndOfExtended   time.Time
	DefaultPlatform string
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Versions lists the Kubernetes versions EKS offers, newest last, with
// EKS's published release and end-of-support dates.
var Versions = []Version{
	{"1.29", day(2024, 1, 23), day(2025, 3, 23), day(2026, 3, 23), "eks.40"},
	{"1.30", day(2024, 5, 23), day(2025, 7, 23), day(2026, 7, 23), "eks.35"},
	{"1.31", day(2024, 9, 26), day(2025, 11, 26), day(2026, 11, 26), "eks.31"},
	{"1.32", day(2025, 1, 23), day(2026, 3, 23), day(2027, 3, 23), "eks.18"},
	{"1.33", day(2025, 5, 29), day(2026, 7, 29), day(2027, 7, 29), "eks.12"},
	{"1.34", day(2025, 10, 2), day(2026, 12, 2), day(2027, 12, 2), "eks.6"},
}

// DefaultVersion is the version of a cluster created without one.
const DefaultVersion = "1.33"

// Support types.
const (
	SupportStandard = "STANDARD"
	SupportExtended = "EXTENDED"
)

// FindVersion returns the version v, if EKS offers it.
func FindVersion(v string) (Version, bool) {
	i := slices.IndexFunc(Versions, func(x Version) bool { return x.Version == v })
	if i < 0 {
		return Version{}, false
	}
	return Versions[i], true
}

// VersionStatus returns the support status of v at now:
// STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED.
func VersionStatus(v Version, now time.Time) string {
	switch {
	case now.Before(v.EndOfStandard):
		return "STANDARD_SUPPORT"
	case now.Before(v.EndOfExtended):
		return "EXTENDED_SUPPORT"
	}
	return "UNSUPPORTED"
}

// NextVersion returns the minor version after v ("" if none).
func NextVersion(v string) string {
	i := slices.IndexFunc(Versions, func(x Version) bool { return x.Version == v })
	if i < 0 || i+1 >= len(Versions) {
		return ""
	}
	return Versions[i+1].Version
}
