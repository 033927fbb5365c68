package ssmchannel

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message types (the frame's 32-byte, space-padded type field).
const (
	TypeInput            = "input_stream_data"
	TypeOutput           = "output_stream_data"
	TypeAcknowledge      = "acknowledge"
	TypeChannelClosed    = "channel_closed"
	TypeStartPublication = "start_publication"
	TypePausePublication = "pause_publication"
)

// PayloadType says what a stream message's payload is.
type PayloadType uint32

// Payload types.
const (
	PayloadOutput            PayloadType = 1 // terminal bytes, both ways
	PayloadError             PayloadType = 2
	PayloadSize              PayloadType = 3 // {"cols":..,"rows":..} from the client
	PayloadParameter         PayloadType = 4
	PayloadHandshakeRequest  PayloadType = 5
	PayloadHandshakeResponse PayloadType = 6
	PayloadHandshakeComplete PayloadType = 7
	PayloadFlag              PayloadType = 10 // a big-endian uint32 flag from the client
	PayloadStdErr            PayloadType = 11
	PayloadExitCode          PayloadType = 12
)

// Flags a client sends with PayloadFlag.
const (
	FlagDisconnectToPort uint32 = 1
	FlagTerminateSession uint32 = 2
)

// Frame layout: every field big-endian, the header length counts the bytes
// before the payload length field.
const (
	offType          = 4
	lenType          = 32
	offSchemaVersion = offType + lenType    // 36
	offCreatedDate   = offSchemaVersion + 4 // 40
	offSequence      = offCreatedDate + 8   // 48
	offFlags         = offSequence + 8      // 56
	offMessageID     = offFlags + 8         // 64
	offDigest        = offMessageID + 16    // 80
	offPayloadType   = offDigest + 32       // 112
	offPayloadLength = offPayloadType + 4   // 116
	headerLength     = offPayloadLength     // 116
	offPayload       = offPayloadLength + 4 // 120
	maxPayload       = 16 << 20
)

// UUID is a message ID in its usual byte order.
type UUID [16]byte

// NewUUID returns a random (version 4) UUID.
func NewUUID() UUID {
	var u UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// String is the hyphenated lower-case form.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Message is one data-channel frame.
type Message struct {
	Type          string
	SchemaVersion uint32
	CreatedDate   time.Time // millisecond precision on the wire
	Sequence      int64
	Flags         uint64
	ID            UUID
	PayloadType   PayloadType
	Payload       []byte
}

// Marshal encodes m. The message ID goes on the wire as the plugin writes
// it: the UUID's low eight bytes first, then its high eight.
func (m *Message) Marshal() []byte {
	b := make([]byte, offPayload+len(m.Payload))
	binary.BigEndian.PutUint32(b[0:], headerLength)
	copy(b[offType:offType+lenType], bytes.Repeat([]byte{' '}, lenType))
	copy(b[offType:offType+lenType], m.Type)
	sv := m.SchemaVersion
	if sv == 0 {
		sv = 1
	}
	binary.BigEndian.PutUint32(b[offSchemaVersion:], sv)
	created := m.CreatedDate
	if created.IsZero() {
		created = time.Now()
	}
	binary.BigEndian.PutUint64(b[offCreatedDate:], uint64(created.UnixMilli()))
	binary.BigEndian.PutUint64(b[offSequence:], uint64(m.Sequence))
	binary.BigEndian.PutUint64(b[offFlags:], m.Flags)
	copy(b[offMessageID:], m.ID[8:])
	copy(b[offMessageID+8:], m.ID[:8])
	sum := sha256.Sum256(m.Payload)
	copy(b[offDigest:], sum[:])
	binary.BigEndian.PutUint32(b[offPayloadType:], uint32(m.PayloadType))
	binary.BigEndian.PutUint32(b[offPayloadLength:], uint32(len(m.Payload)))
	copy(b[offPayload:], m.Payload)
	return b
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("ssmchannel: malformed message")

// Unmarshal decodes a frame and checks its payload digest.
func Unmarshal(b []byte) (Message, error) {
	if len(b) < offPayload {
		return Message{}, fmt.Errorf("%w: %d bytes is shorter than a header", ErrMalformed, len(b))
	}
	hl := binary.BigEndian.Uint32(b[0:])
	if hl < headerLength || int(hl)+4 > len(b) {
		return Message{}, fmt.Errorf("%w: header length %d", ErrMalformed, hl)
	}
	var m Message
	m.Type = strings.TrimSpace(string(bytes.Trim(b[offType:offType+lenType], "\x00")))
	m.SchemaVersion = binary.BigEndian.Uint32(b[offSchemaVersion:])
	m.CreatedDate = time.UnixMilli(int64(binary.BigEndian.Uint64(b[offCreatedDate:])))
	m.Sequence = int64(binary.BigEndian.Uint64(b[offSequence:]))
	m.Flags = binary.BigEndian.Uint64(b[offFlags:])
	copy(m.ID[8:], b[offMessageID:offMessageID+8])
	copy(m.ID[:8], b[offMessageID+8:offMessageID+16])
	m.PayloadType = PayloadType(binary.BigEndian.Uint32(b[offPayloadType:]))
	n := binary.BigEndian.Uint32(b[offPayloadLength:])
	payload := b[hl+4:]
	if n > maxPayload || int(n) != len(payload) {
		return Message{}, fmt.Errorf("%w: payload length %d, %d bytes follow", ErrMalformed, n, len(payload))
	}
	if n > 0 {
		sum := sha256.Sum256(payload)
		if !bytes.Equal(sum[:], b[offDigest:offDigest+32]) {
			return Message{}, fmt.Errorf("%w: payload digest does not match", ErrMalformed)
		}
	}
	m.Payload = append([]byte(nil), payload...)
	return m, nil
}
