/*
 * nsm-attest: one round trip to the Nitro Secure Module, and nothing else.
 *
 * Reads one CBOR-encoded NSM request from stdin (at most 4096 bytes), hands it to the NSM driver
 * with the driver's single ioctl, and writes the CBOR response to stdout. All encoding and
 * decoding happens in the enclave's TypeScript (src/attestation/nsm-codec.ts), which keeps this
 * program small enough to audit at a glance (docs/adr/0004-nsm-access.md).
 *
 * The ioctl contract is the Linux nsm driver's (drivers/misc/nsm.c, mirrored by
 * aws-nitro-enclaves-nsm-api src/driver/mod.rs): request code _IOWR(0x0A, 0, struct nsm_message),
 * where nsm_message is two iovecs; the driver reads request.iov_len bytes and sets response.iov_len
 * to the length it wrote.
 *
 * Usage: nsm-attest [DEVICE]          DEVICE defaults to /dev/nsm
 * Exit:  0 response written           64 usage            65 request empty or over 4096 bytes
 *        69 device cannot be opened   74 ioctl or I/O failed
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define NSM_REQUEST_MAX 0x1000
#define NSM_RESPONSE_MAX 0x3000

struct nsm_message {
	struct iovec request;
	struct iovec response;
};

#define NSM_IOCTL_REQUEST _IOWR(0x0A, 0, struct nsm_message)

enum { EX_OK_ = 0, EX_USAGE_ = 64, EX_DATAERR_ = 65, EX_UNAVAILABLE_ = 69, EX_IOERR_ = 74 };

static int fail(int code, const char *what)
{
	/* errno names the cause (ENOENT, ENOTTY, EMSGSIZE…); no request or response bytes are printed */
	fprintf(stderr, "nsm-attest: %s: %s\n", what, strerror(errno));
	return code;
}

int main(int argc, char **argv)
{
	static unsigned char request[NSM_REQUEST_MAX + 1];
	static unsigned char response[NSM_RESPONSE_MAX];
	const char *device = "/dev/nsm";
	size_t len = 0;

	if (argc > 2 || (argc == 2 && argv[1][0] != '/')) {
		fprintf(stderr, "usage: nsm-attest [/path/to/nsm-device] < request.cbor > response.cbor\n");
		return EX_USAGE_;
	}
	if (argc == 2)
		device = argv[1];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, request + len, sizeof request - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(EX_IOERR_, "read stdin");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > NSM_REQUEST_MAX) {
			errno = EMSGSIZE;
			return fail(EX_DATAERR_, "request");
		}
	}
	if (len == 0) {
		errno = ENODATA;
		return fail(EX_DATAERR_, "request");
	}

	int fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(EX_UNAVAILABLE_, device);

	struct nsm_message msg = {
		.request = { .iov_base = request, .iov_len = len },
		.response = { .iov_base = response, .iov_len = sizeof response },
	};
	if (ioctl(fd, NSM_IOCTL_REQUEST, &msg) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return fail(EX_IOERR_, "ioctl");
	}
	close(fd);
	if (msg.response.iov_len > sizeof response) {
		errno = EOVERFLOW;
		return fail(EX_IOERR_, "response");
	}

	size_t off = 0;
	while (off < msg.response.iov_len) {
		ssize_t n = write(STDOUT_FILENO, response + off, msg.response.iov_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(EX_IOERR_, "write stdout");
		off += (size_t)n;
	}
	return EX_OK_;
}
