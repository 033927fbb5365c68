package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// PullImage pulls ref. Failures are *driver.PullError with the daemon's
// message.
func (d *Driver) PullImage(ctx context.Context, ref string, auth driver.RegistryAuth) error {
	opts := client.ImagePullOptions{}
	if !auth.IsZero() {
		enc, err := authconfig.Encode(registry.AuthConfig{
			Username:      auth.Username,
			Password:      auth.Password,
			ServerAddress: auth.ServerAddress,
		})
		if err != nil {
			return &driver.PullError{Ref: ref, Message: "encoding registry auth: " + err.Error(), Err: err}
		}
		opts.RegistryAuth = enc
	}
	start := time.Now()
	resp, err := d.cli.ImagePull(ctx, ref, opts)
	if err == nil {
		err = resp.Wait(ctx)
	}
	if err != nil {
		d.log.WarnContext(ctx, "image pull failed", "image", ref, "error", err)
		return &driver.PullError{Ref: ref, Message: err.Error(), Err: err}
	}
	d.log.InfoContext(ctx, "image pulled", "image", ref, "duration", time.Since(start))
	return nil
}

// ImagePresent reports whether ref is available locally.
func (d *Driver) ImagePresent(ctx context.Context, ref string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	default:
		return false, wrap("inspect image "+ref, err)
	}
}

// ContextFile is an entry of an image build context.
type ContextFile struct {
	Name string // slash-separated path in the context, e.g. "rootfs/bin/sh"
	Mode int64  // permission bits; 0 means 0644 for files, 0755 for directories
	Data []byte // file content
	Link string // if set, the entry is a symlink to Link
	Dir  bool   // the entry is a directory
}

// EnsureImage builds ref with the classic builder from a Dockerfile and a
// build context made of files, unless ref already exists and was built
// from the same content. It needs no network access as long as the
// Dockerfile only uses "FROM scratch" or local images.
func (d *Driver) EnsureImage(ctx context.Context, ref, dockerfile string, files []ContextFile) error {
	buildCtx, err := tarContext(dockerfile, files)
	if err != nil {
		return fmt.Errorf("docker: build %s: %w", ref, err)
	}
	sum := sha256.Sum256(buildCtx)
	hash := hex.EncodeToString(sum[:])

	if img, err := d.cli.ImageInspect(ctx, ref); err == nil {
		if img.Config != nil && img.Config.Labels[labelImageHash] == hash {
			return nil
		}
	} else if !isNotFound(err) {
		return wrap("inspect image "+ref, err)
	}

	start := time.Now()
	res, err := d.cli.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{labelImageHash: hash, labelManaged: "true"},
		Version:     build.BuilderV1,
	})
	if err != nil {
		return wrap("build "+ref, err)
	}
	defer res.Body.Close()
	var output strings.Builder
	dec := json.NewDecoder(res.Body)
	for {
		var msg jsonstream.Message
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return wrap("build "+ref, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("docker: build %s: %s (output: %s)", ref, msg.Error.Message, output.String())
		}
		output.WriteString(msg.Stream)
	}
	d.log.InfoContext(ctx, "image built", "image", ref, "duration", time.Since(start))
	return nil
}

// EnsureBusyboxImage builds ref from the host's static busybox (see
// Options.Busybox): a scratch image with /bin/busybox, every applet linked
// into /bin (sh, sleep, nc, httpd, wget, ...), /etc/passwd and /etc/group
// with root and nobody, a sticky /tmp, and cmd as its CMD. It works offline.
func (d *Driver) EnsureBusyboxImage(ctx context.Context, ref string, cmd []string) error {
	bin, err := os.ReadFile(d.opts.Busybox)
	if err != nil {
		return fmt.Errorf("docker: busybox image: %w", err)
	}
	if err := checkStatic(d.opts.Busybox); err != nil {
		return fmt.Errorf("docker: busybox image: %w", err)
	}
	applets := busyboxApplets(ctx, d.opts.Busybox)
	files := []ContextFile{
		{Name: "rootfs", Dir: true},
		{Name: "rootfs/bin", Dir: true},
		{Name: "rootfs/bin/busybox", Mode: 0o755, Data: bin},
		{Name: "rootfs/etc", Dir: true},
		{Name: "rootfs/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Name: "rootfs/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Name: "rootfs/root", Dir: true, Mode: 0o700},
		{Name: "rootfs/tmp", Dir: true, Mode: 0o1777},
		{Name: "rootfs/var", Dir: true},
		{Name: "rootfs/var/www", Dir: true},
	}
	for _, a := range applets {
		files = append(files, ContextFile{Name: "rootfs/bin/" + a, Link: "busybox"})
	}
	cmdJSON, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	dockerfile := "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD " + string(cmdJSON) + "\n"
	return d.EnsureImage(ctx, ref, dockerfile, files)
}

// fallbackApplets are linked if the busybox binary cannot list its own.
var fallbackApplets = []string{
	"cat", "dd", "echo", "env", "false", "head", "httpd", "id", "kill", "ls",
	"mkdir", "nc", "printenv", "ps", "pwd", "rm", "sh", "sleep", "tail",
	"test", "touch", "true", "wget",
}

// busyboxApplets lists the applets of the busybox binary at p.
func busyboxApplets(ctx context.Context, p string) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--list").Output()
	if err != nil {
		return fallbackApplets
	}
	var applets []string
	for a := range strings.FieldsSeq(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	if !slices.Contains(applets, "sh") {
		return fallbackApplets
	}
	return applets
}

// checkStatic returns an error if the ELF binary at p needs a dynamic
// loader, which a scratch image does not have.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; a static binary is required", p)
		}
	}
	return nil
}

// tarContext builds a deterministic tar build context.
func tarContext(dockerfile string, files []ContextFile) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	all := append([]ContextFile{{Name: "Dockerfile", Data: []byte(dockerfile)}}, files...)
	for _, f := range all {
		name := path.Clean(f.Name)
		hdr := &tar.Header{Name: name, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case f.Link != "":
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = f.Link
			hdr.Mode = 0o777
		case f.Dir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			hdr.Mode = cmpOr(f.Mode, 0o755)
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Mode = cmpOr(f.Mode, 0o644)
			hdr.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cmpOr(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

// sandboxCommand keeps a busybox sandbox alive until SIGTERM.
var sandboxCommand = []string{"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"}

// ensureSandboxImage makes sure the awsvpc sandbox image exists, building
// it from busybox or, failing that, from the running executable.
func (d *Driver) ensureSandboxImage(ctx context.Context) error {
	d.imgMu.Lock()
	defer d.imgMu.Unlock()
	if d.imgReady {
		return nil
	}
	ref := d.opts.SandboxImage
	if ref != DefaultSandboxImage {
		// A user-provided image is used as is, with its own command.
		if ok, err := d.ImagePresent(ctx, ref); err != nil {
			return err
		} else if ok {
			d.imgReady = true
			return nil
		}
	}
	if _, err := os.Stat(d.opts.Busybox); err == nil {
		if err := d.EnsureBusyboxImage(ctx, ref, sandboxCommand); err != nil {
			return err
		}
		d.imgReady = true
		return nil
	}
	exe := d.opts.PauseBinary
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("docker: sandbox image: no busybox at %s and no executable: %w", d.opts.Busybox, err)
		}
	}
	if err := checkStatic(exe); err != nil {
		return fmt.Errorf("docker: sandbox image: no busybox at %s, and %w", d.opts.Busybox, err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		return fmt.Errorf("docker: sandbox image: %w", err)
	}
	dockerfile := "FROM scratch\nCOPY berth /berth\nENTRYPOINT [\"/berth\", \"pause\"]\n"
	if err := d.EnsureImage(ctx, ref, dockerfile, []ContextFile{{Name: "berth", Mode: 0o755, Data: bin}}); err != nil {
		return err
	}
	d.imgReady = true
	return nil
}
