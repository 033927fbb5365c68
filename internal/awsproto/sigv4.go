package awsproto

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultAccountID is the account of callers berth cannot attribute to a
	// configured key (and of configured keys without an account).
	DefaultAccountID = "123456789012"
	// DefaultAccessKeyID and DefaultSecretKey are the public key pair every
	// non-strict SigV4 verifier knows (the aws CLI convention for local
	// emulators). A strict verifier knows only its configured keys.
	DefaultAccessKeyID = "test"
	DefaultSecretKey   = "test"
	// DefaultMaxSkew is how far a signed request's date may be from the
	// server clock.
	DefaultMaxSkew = 15 * time.Minute

	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4Terminator = "aws4_request"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxPresignTTL   = 7 * 24 * time.Hour
)

// Credential is a known access key's secret and owner.
type Credential struct {
	SecretKey string
	// Account owns the key; "" means the verifier's DefaultAccount.
	Account string
	// SessionToken, when set, must be sent as X-Amz-Security-Token.
	SessionToken string
	// Principal is the ARN of the identity the key belongs to (an IAM
	// user, an assumed-role session); "" means the account's root.
	Principal string
	// PrincipalID is the unique ID of that identity (AIDA..., AROA...:session).
	PrincipalID string
	// Expires, when set, is when a temporary credential stops working.
	Expires time.Time
	// Disabled refuses the key (an IAM access key made Inactive, or
	// deleted: a KeySource remembers the keys it issued).
	Disabled bool
}

// KeySource finds access keys that are not in SigV4Config.Keys: the keys
// IAM issues (CreateAccessKey) and STS's temporary credentials. Lookup
// reports found=false for a key it does not know.
type KeySource interface {
	LookupKey(ctx context.Context, accessKey string) (cred Credential, found bool, err error)
}

// SigV4Config configures a SigV4 verifier.
type SigV4Config struct {
	// DefaultAccount is the account of unsigned requests, of unknown keys
	// (non-strict mode) and of keys without an account. Default
	// DefaultAccountID.
	DefaultAccount string
	// Keys maps access key IDs to their credentials. Without Strict the
	// public test/test pair is known too.
	Keys map[string]Credential
	// Strict knows only Keys (not the public test/test pair) and refuses
	// unsigned requests and unknown access keys. Otherwise unsigned requests
	// and unknown keys are accepted without verification (handy for local
	// tools that sign with arbitrary keys). Signatures of known keys are
	// always checked, and malformed Authorization headers always refused.
	Strict bool
	// Source, when set, is asked for keys absent from Keys.
	Source KeySource
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxSkew bounds the difference between a request's date and Now
	// (DefaultMaxSkew when zero).
	MaxSkew time.Duration
}

// SigV4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) in the
// Authorization header or in presigned query strings. It implements
// Authenticator; it is safe for concurrent use.
type SigV4 struct {
	defaultAccount string
	keys           map[string]Credential
	strict         bool
	source         KeySource
	now            func() time.Time
	maxSkew        time.Duration
	keyCache       signingKeyCache
}

// NewSigV4 returns a verifier for cfg. cfg.Keys is copied.
func NewSigV4(cfg SigV4Config) *SigV4 {
	s := &SigV4{
		defaultAccount: cfg.DefaultAccount,
		keys:           map[string]Credential{},
		strict:         cfg.Strict,
		source:         cfg.Source,
		now:            cfg.Now,
		maxSkew:        cfg.MaxSkew,
	}
	if s.defaultAccount == "" {
		s.defaultAccount = DefaultAccountID
	}
	if !s.strict {
		s.keys[DefaultAccessKeyID] = Credential{SecretKey: DefaultSecretKey}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxSkew <= 0 {
		s.maxSkew = DefaultMaxSkew
	}
	for k, c := range cfg.Keys {
		s.keys[k] = c
	}
	return s
}

// sigRequest is the signature material of one request.
type sigRequest struct {
	accessKey     string
	scopeDate     string // YYYYMMDD from the credential scope
	region        string
	service       string
	signedHeaders []string
	signedRaw     string // SignedHeaders exactly as sent
	signature     string
	amzDate       string // the request date in ISO 8601 basic format
	date          time.Time
	presigned     bool
	expires       time.Duration
	token         string
}

func (q *sigRequest) scope() string {
	return q.scopeDate + "/" + q.region + "/" + q.service + "/" + sigV4Terminator
}

// Authenticate implements Authenticator. Errors are *Error in the awsJson
// spelling (the Router respells them for awsQuery and restJson1).
func (s *SigV4) Authenticate(r *http.Request, body []byte) (Identity, error) {
	q, err := parseSigned(r)
	if err != nil {
		return Identity{}, err
	}
	if q == nil {
		if s.strict {
			return Identity{}, errMissingToken()
		}
		return Identity{Account: s.defaultAccount}, nil
	}
	id := Identity{AccessKey: q.accessKey, Account: s.defaultAccount, Region: q.region, Service: q.service}
	cred, known := s.keys[q.accessKey]
	if !known && s.source != nil {
		var err error
		if cred, known, err = s.source.LookupKey(r.Context(), q.accessKey); err != nil {
			return Identity{}, errInternal("looking up the access key: " + err.Error())
		}
	}
	if !known {
		if s.strict {
			return Identity{}, errUnrecognizedClient()
		}
		return id, nil
	}
	if cred.Disabled {
		return Identity{}, errUnrecognizedClient()
	}
	if cred.Account != "" {
		id.Account = cred.Account
	}
	if err := s.verify(r, body, q, cred); err != nil {
		return Identity{}, err
	}
	if !cred.Expires.IsZero() && !s.now().Before(cred.Expires) {
		return Identity{}, Errorf(http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired")
	}
	id.Principal, id.PrincipalID = cred.Principal, cred.PrincipalID
	return id, nil
}

// verify checks the dates, the session token and the signature of q.
func (s *SigV4) verify(r *http.Request, body []byte, q *sigRequest, cred Credential) *Error {
	if q.scopeDate != q.amzDate[:8] {
		return errInvalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			q.scopeDate, q.amzDate[:8], q.amzDate)
	}
	if err := s.checkTime(q); err != nil {
		return err
	}
	if cred.SessionToken != "" && subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(q.token)) != 1 {
		return errUnrecognizedClient()
	}
	hashes, err := payloadHashes(r, body, q.presigned)
	if err != nil {
		return err
	}
	key := s.keyCache.get(cred.SecretKey, q.scopeDate, q.region, q.service)
	for _, h := range hashes {
		want := signString(key, stringToSign(q, canonicalRequest(r, q, h)))
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(q.signature))) == 1 {
			return nil
		}
	}
	return errInvalidSignature("%s", msgSignatureMismatch)
}

// checkTime enforces the clock skew of header-signed requests and the
// expiry of presigned ones.
func (s *SigV4) checkTime(q *sigRequest) *Error {
	now := s.now().UTC()
	if q.date.After(now.Add(s.maxSkew)) {
		return errInvalidSignature("Signature not yet current: %s is still later than %s (%s + %s.)",
			q.amzDate, now.Add(s.maxSkew).Format(amzDateFormat), now.Format(amzDateFormat), skewText(s.maxSkew))
	}
	if q.presigned {
		if end := q.date.Add(q.expires); now.After(end) {
			return Errorf(http.StatusForbidden, "AccessDeniedException",
				"Request has expired: it was valid until %s (X-Amz-Date %s plus X-Amz-Expires %d seconds); it is now %s.",
				end.Format(amzDateFormat), q.amzDate, int64(q.expires/time.Second), now.Format(amzDateFormat))
		}
		return nil
	}
	if q.date.Before(now.Add(-s.maxSkew)) {
		return errInvalidSignature("Signature expired: %s is now earlier than %s (%s - %s.)",
			q.amzDate, now.Add(-s.maxSkew).Format(amzDateFormat), now.Format(amzDateFormat), skewText(s.maxSkew))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

// parseSigned extracts the signature material of r: from the Authorization
// header or from presigned query parameters. It returns nil, nil for an
// unsigned request.
func parseSigned(r *http.Request) (*sigRequest, *Error) {
	auth := r.Header.Get("Authorization")
	query := r.URL.Query()
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	switch {
	case auth != "" && presigned:
		return nil, errIncomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case auth != "":
		return parseHeaderAuth(auth, r.Header)
	case presigned:
		return parsePresigned(query)
	}
	return nil, nil
}

func parseHeaderAuth(auth string, h http.Header) (*sigRequest, *Error) {
	p, err := parseAuthorization(auth)
	if err != nil {
		return nil, err
	}
	q, err := parseCredential(p.credential)
	if err != nil {
		return nil, err
	}
	q.signedRaw, q.signature = p.signedHeaders, p.signature
	q.signedHeaders = splitSignedHeaders(p.signedHeaders)
	if err := requireHost(q.signedHeaders); err != nil {
		return nil, err
	}
	if err := q.setDateFromHeaders(h, auth); err != nil {
		return nil, err
	}
	q.token = h.Get("X-Amz-Security-Token")
	return q, nil
}

// authParts are the components of an Authorization header.
type authParts struct{ credential, signedHeaders, signature string }

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func parseAuthorization(auth string) (authParts, *Error) {
	var p authParts
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	if alg != sigV4Algorithm {
		return p, errIncomplete("Unsupported authorization algorithm '%s': berth accepts %s signatures only. Authorization=%s", alg, sigV4Algorithm, auth)
	}
	for _, kv := range strings.Split(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, errIncomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'", kv, auth)
		}
		switch k {
		case "Credential":
			p.credential = v
		case "SignedHeaders":
			p.signedHeaders = v
		case "Signature":
			p.signature = v
		}
	}
	var missing []string
	for _, m := range []struct{ name, val string }{{"Credential", p.credential}, {"Signature", p.signature}, {"SignedHeaders", p.signedHeaders}} {
		if m.val == "" {
			missing = append(missing, "Authorization header requires '"+m.name+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return p, errIncomplete("%s Authorization=%s", strings.Join(missing, " "), auth)
	}
	return p, nil
}

// parseCredential parses "AKID/YYYYMMDD/region/service/aws4_request".
func parseCredential(c string) (*sigRequest, *Error) {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return nil, errIncomplete("Credential should be scoped as <access key>/<YYYYMMDD>/<region>/<service>/%s, got '%s'.", sigV4Terminator, c)
	}
	q := &sigRequest{accessKey: parts[0], scopeDate: parts[1], region: parts[2], service: parts[3]}
	switch {
	case q.accessKey == "":
		return nil, errIncomplete("Credential should contain an access key ID: '%s'.", c)
	case len(q.scopeDate) != 8 || !allDigits(q.scopeDate):
		return nil, errIncomplete("Credential should be scoped to a valid date (YYYYMMDD), not '%s'.", q.scopeDate)
	case q.region == "":
		return nil, errIncomplete("Credential should be scoped to a valid region, not ''.")
	case q.service == "":
		return nil, errIncomplete("Credential should be scoped to a valid service, not ''.")
	case parts[4] != sigV4Terminator:
		return nil, errIncomplete("Credential should be scoped with a valid terminator: '%s', not '%s'.", sigV4Terminator, parts[4])
	}
	return q, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func splitSignedHeaders(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ";") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func requireHost(signed []string) *Error {
	for _, h := range signed {
		if h == "host" || h == ":authority" {
			return nil
		}
	}
	return errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
}

// setDateFromHeaders takes the request date from X-Amz-Date, else Date.
func (q *sigRequest) setDateFromHeaders(h http.Header, auth string) *Error {
	if v := h.Get("X-Amz-Date"); v != "" {
		return q.setAmzDate(v)
	}
	v := h.Get("Date")
	if v == "" {
		return errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", auth)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return errIncomplete("Date header '%s' is not a valid HTTP date.", v)
	}
	q.date = t.UTC()
	q.amzDate = q.date.Format(amzDateFormat)
	return nil
}

func (q *sigRequest) setAmzDate(v string) *Error {
	t, err := time.Parse(amzDateFormat, v)
	if err != nil || len(v) != len(amzDateFormat) {
		return errIncomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v)
	}
	q.date, q.amzDate = t, v
	return nil
}

func parsePresigned(query map[string][]string) (*sigRequest, *Error) {
	get := func(k string) string {
		if v := query[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"} {
		if get(k) == "" {
			return nil, errIncomplete("AWS query-string parameters must include '%s'. Re-examine the query-string parameters.", k)
		}
	}
	if alg := get("X-Amz-Algorithm"); alg != sigV4Algorithm {
		return nil, errIncomplete("X-Amz-Algorithm only supports \"%s\", got \"%s\".", sigV4Algorithm, alg)
	}
	q, err := parseCredential(get("X-Amz-Credential"))
	if err != nil {
		return nil, err
	}
	q.presigned = true
	q.signedRaw, q.signature = get("X-Amz-SignedHeaders"), get("X-Amz-Signature")
	q.signedHeaders = splitSignedHeaders(q.signedRaw)
	q.token = get("X-Amz-Security-Token")
	if err := requireHost(q.signedHeaders); err != nil {
		return nil, err
	}
	if err := q.setAmzDate(get("X-Amz-Date")); err != nil {
		return nil, err
	}
	secs, perr := strconv.ParseInt(get("X-Amz-Expires"), 10, 64)
	if perr != nil || secs < 0 || time.Duration(secs)*time.Second > maxPresignTTL {
		return nil, errIncomplete("X-Amz-Expires must be an integer between 0 and %d seconds, got '%s'.", int64(maxPresignTTL/time.Second), get("X-Amz-Expires"))
	}
	q.expires = time.Duration(secs) * time.Second
	return q, nil
}

// payloadHashes returns the payload hashes a valid signature may have used.
func payloadHashes(r *http.Request, body []byte, presigned bool) ([]string, *Error) {
	sum := sha256.Sum256(body)
	computed := hex.EncodeToString(sum[:])
	if presigned {
		return []string{computed, unsignedPayload}, nil
	}
	declared := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == "":
		return []string{computed}, nil
	case declared == unsignedPayload || strings.HasPrefix(declared, "STREAMING-"):
		return []string{declared}, nil
	case !strings.EqualFold(declared, computed):
		return nil, errInvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return []string{declared}, nil
}

// canonicalRequest builds the SigV4 canonical request of r.
func canonicalRequest(r *http.Request, q *sigRequest, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, q.service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, q.presigned))
	b.WriteByte('\n')
	for _, h := range q.signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(q.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI is the path as sent, URI-encoded once more for every service
// but S3 (AWS's double-encoding rule).
func canonicalURI(r *http.Request, service string) string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	if service == "s3" {
		return p
	}
	return sigEscape(p, false)
}

// canonicalQuery sorts the query parameters by encoded name, then value,
// dropping X-Amz-Signature of presigned requests.
func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var params []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescapeLoose(k), queryUnescapeLoose(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, kv{sigEscape(k, true), sigEscape(v, true)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// canonicalHeaderValue joins the values of a signed header, trimmed and
// with runs of spaces collapsed.
func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host", ":authority":
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(name)
		if len(vals) == 0 {
			vals = headerValuesFold(r.Header, name)
		}
		if len(vals) == 0 && name == "content-length" && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	}
	for i, v := range vals {
		vals[i] = collapseSpaces(v)
	}
	return strings.Join(vals, ",")
}

func headerValuesFold(h http.Header, name string) []string {
	var out []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			out = append(out, v...)
		}
	}
	return out
}

func collapseSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func stringToSign(q *sigRequest, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigV4Algorithm + "\n" + q.amzDate + "\n" + q.scope() + "\n" + hex.EncodeToString(sum[:])
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, sigV4Terminator)
}

func signString(key []byte, s string) string { return hex.EncodeToString(hmacSHA256(key, s)) }

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// sigEscape percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), and '/' unless encodeSlash.
func sigEscape(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// queryUnescapeLoose decodes a query component ('+' is a space), keeping it
// as is when it is not valid percent-encoding.
func queryUnescapeLoose(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func errIncomplete(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "IncompleteSignatureException", format, args...)
}

func errInvalidSignature(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidSignatureException", format, args...)
}

func errUnrecognizedClient() *Error {
	return Errorf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
}

func errMissingToken() *Error {
	return Errorf(http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
}

var _ Authenticator = (*SigV4)(nil)

// signingKeyCache remembers derived signing keys: a key depends only on the
// secret, the scope's date, region and service, so the four HMACs that
// derive it run once per scope and day rather than once per request.
type signingKeyCache struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// maxCachedKeys bounds the cache; when full it starts over.
const maxCachedKeys = 1024

func (c *signingKeyCache) get(secret, date, region, service string) []byte {
	id := secret + "\x00" + date + "\x00" + region + "\x00" + service
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[id]; ok {
		return k
	}
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = make(map[string][]byte)
	}
	k := signingKey(secret, date, region, service)
	c.keys[id] = k
	return k
}
