/* A column's keyed digests in one C loop: HMAC-SHA-256 with OpenSSL's SHA-256 (libcrypto), keyed
   BLAKE2b written out below from RFC 7693, four one-block values at a time.

The Python loops of `operators/base.py` (`KeyedHmacSha256.joined`, `KeyedDigest.joined`) cost about
a microsecond per value in interpreter overhead around two or three hash calls; for a column where
every row is a different person that overhead is the masking's floor. These functions compute the
same bytes: the Python classes stay the reference (`__call__`), and
tests/hurricane_assets/masking/operators/test_keyed_many.py checks both paths give equal output.

hmac_sha256_many(block, prefix, values) -> bytes
    HMAC-SHA-256 (RFC 2104) with the 64-byte key block `block` over `prefix + value` for each value
    (str, UTF-8 encoded), the 32-byte digests concatenated. The pad states are hashed once per call.

blake2b_many(key, prefix, size, values, suffix) -> bytes
    Keyed BLAKE2b (RFC 7693; hashlib.blake2b(key=key, digest_size=size)) with output size `size` (1..64) over
    `prefix + value + suffix` for each value (str), the digests concatenated.

hmac_sha256_arrow(block, prefix, data, offsets), blake2b_arrow(key, prefix, size, data, offsets, suffix)
    The same over an Arrow string column's buffers (UTF-8 `data`, n + 1 int32 `offsets`), so a column
    masked in Arrow never becomes Python strings. The offsets are checked before any byte is read:
    ascending, within `data`.

count_distinct_arrow(data, offsets, bits=64) -> int
    The number of distinct values of such a column, exact (equal hashes are compared byte for byte),
    without the GIL: the masked columns' distinct counts for the privacy report, half of Arrow's
    `unique` time. It lives here for the Arrow column reader it shares with the digests.

encode_arrow(data, offsets, bits=64) -> (codes, firsts)
    The same table's dictionary encoding: int32 bytes of each row's code (in order of first
    appearance, as Arrow's `dictionary_encode` numbers them) and of each code's first row.

iban_bytes(chars, seeds, length, bank) -> bytes
    IBAN pseudonyms of n upper-case IBANs of one length from their keyed digests, in one pass
    (`financial._iban_bytes` is the reference).
*/
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_CTX: the copyable state the pads are primed into */
#include <Python.h>
#include <openssl/crypto.h> /* OPENSSL_cleanse */
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

static int utf8_of(PyObject *value, const char **data, Py_ssize_t *size) {
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "values must be str, got %.100s", Py_TYPE(value)->tp_name);
        return -1;
    }
    *data = PyUnicode_AsUTF8AndSize(value, size);
    return *data == NULL ? -1 : 0;
}

/* A column's values: a fast sequence of str (`seq`), or Arrow's UTF-8 bytes and int32 offsets. */
typedef struct {
    PyObject *seq;
    Py_buffer data, offsets;
    const int32_t *off;
    Py_ssize_t n;
} column;

static int column_of_sequence(PyObject *values, column *c) {
    memset(c, 0, sizeof *c);
    c->seq = PySequence_Fast(values, "values must be a sequence of str");
    if (c->seq == NULL)
        return -1;
    c->n = PySequence_Fast_GET_SIZE(c->seq);
    return 0;
}

static void column_release(column *c) {
    Py_CLEAR(c->seq);
    if (c->data.obj != NULL)
        PyBuffer_Release(&c->data);
    if (c->offsets.obj != NULL)
        PyBuffer_Release(&c->offsets);
}

/* Any offsets that would read outside `data` are refused here, before the loop reads a byte. */
static int column_of_arrow(PyObject *data, PyObject *offsets, column *c) {
    memset(c, 0, sizeof *c);
    if (PyObject_GetBuffer(data, &c->data, PyBUF_SIMPLE) < 0 || PyObject_GetBuffer(offsets, &c->offsets, PyBUF_SIMPLE) < 0)
        return -1;
    if (c->offsets.len < (Py_ssize_t)sizeof(int32_t) || c->offsets.len % sizeof(int32_t) != 0 ||
        (uintptr_t)c->offsets.buf % sizeof(int32_t) != 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must be n + 1 aligned int32 values");
        return -1;
    }
    c->off = c->offsets.buf;
    c->n = c->offsets.len / (Py_ssize_t)sizeof(int32_t) - 1;
    if (c->off[0] < 0 || c->off[c->n] > c->data.len) {
        PyErr_SetString(PyExc_ValueError, "offsets point outside the data");
        return -1;
    }
    for (Py_ssize_t i = 0; i < c->n; i++)
        if (c->off[i + 1] < c->off[i]) {
            PyErr_SetString(PyExc_ValueError, "offsets must not decrease");
            return -1;
        }
    return 0;
}

static int column_item(const column *c, Py_ssize_t i, const char **data, Py_ssize_t *size) {
    if (c->seq != NULL)
        return utf8_of(PySequence_Fast_ITEMS(c->seq)[i], data, size);
    *data = (const char *)c->data.buf + c->off[i];
    *size = c->off[i + 1] - c->off[i];
    return 0;
}

/* `result`, after the column and the argument buffers (`last` may be NULL) are released. */
static PyObject *released(PyObject *result, column *c, Py_buffer *first, Py_buffer *second, Py_buffer *last) {
    column_release(c);
    PyBuffer_Release(first);
    PyBuffer_Release(second);
    if (last != NULL)
        PyBuffer_Release(last);
    return result;
}

/* HMAC-SHA-256 of prefix + each value of `c`, concatenated; NULL with an error set. */
static PyObject *hmac_column(Py_buffer *block, Py_buffer *prefix, const column *c) {
    PyObject *result = NULL;
    unsigned char pad[SHA256_CBLOCK];
    SHA256_CTX inner, outer, work;
    if (block->len != SHA256_CBLOCK) {
        PyErr_SetString(PyExc_ValueError, "the HMAC key block must be 64 bytes");
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, c->n * SHA256_DIGEST_LENGTH);
    if (result == NULL)
        return NULL;
    const unsigned char *key = block->buf;
    for (int i = 0; i < SHA256_CBLOCK; i++)
        pad[i] = key[i] ^ 0x36;
    SHA256_Init(&inner);
    SHA256_Update(&inner, pad, SHA256_CBLOCK);
    SHA256_Update(&inner, prefix->buf, prefix->len);
    for (int i = 0; i < SHA256_CBLOCK; i++)
        pad[i] = key[i] ^ 0x5c;
    SHA256_Init(&outer);
    SHA256_Update(&outer, pad, SHA256_CBLOCK);
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < c->n; i++) {
        const char *data;
        Py_ssize_t size;
        if (column_item(c, i, &data, &size) < 0) {
            Py_CLEAR(result);
            break;
        }
        unsigned char digest[SHA256_DIGEST_LENGTH];
        work = inner;
        SHA256_Update(&work, data, size);
        SHA256_Final(digest, &work);
        work = outer;
        SHA256_Update(&work, digest, SHA256_DIGEST_LENGTH);
        SHA256_Final(out + i * SHA256_DIGEST_LENGTH, &work);
    }
    /* no key material left on the stack, whichever way out */
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(&work, sizeof work);
    return result;
}

static PyObject *hmac_sha256_many(PyObject *self, PyObject *args) {
    Py_buffer block, prefix;
    PyObject *values, *result = NULL;
    column c;
    if (!PyArg_ParseTuple(args, "y*y*O", &block, &prefix, &values))
        return NULL;
    if (column_of_sequence(values, &c) == 0)
        result = hmac_column(&block, &prefix, &c);
    return released(result, &c, &block, &prefix, NULL);
}

static PyObject *hmac_sha256_arrow(PyObject *self, PyObject *args) {
    Py_buffer block, prefix;
    PyObject *data, *offsets, *result = NULL;
    column c;
    if (!PyArg_ParseTuple(args, "y*y*OO", &block, &prefix, &data, &offsets))
        return NULL;
    if (column_of_arrow(data, offsets, &c) == 0)
        result = hmac_column(&block, &prefix, &c);
    return released(result, &c, &block, &prefix, NULL);
}

/* Keyed BLAKE2b (RFC 7693), written out from the RFC: OpenSSL's BLAKE2BMAC costs ~0.5 µs a value, its
   context copy included, and exports no state to copy or to run several messages at once. Here the
   state is a plain struct, primed once with the key block and the prefix and copied per value; values
   whose last block is their only one (prefix tail + value + suffix within 128 bytes: ids, names,
   emails, numbers) are compressed four at a time, one per lane of a 4 x 64-bit vector (GCC/Clang
   vector extensions; AVX2 where the CPU has it): ~0.12 against ~0.42 µs a value on one lane.
   tests/.../test_keyed_many.py checks both paths against hashlib's BLAKE2b for every key length,
   output size and block boundary. */
static const uint64_t blake2b_iv[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
                                       0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                                       0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

static const uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

/* The mixing, for one message (uint64_t words) or four (v4 lanes) alike. */
#define B2B_ROTR(x, n) (((x) >> (n)) | ((x) << (64 - (n))))
#define B2B_G(a, b, c, d, x, y)        \
    do {                               \
        a = a + b + (x);               \
        d = B2B_ROTR(d ^ a, 32);       \
        c = c + d;                     \
        b = B2B_ROTR(b ^ c, 24);       \
        a = a + b + (y);               \
        d = B2B_ROTR(d ^ a, 16);       \
        c = c + d;                     \
        b = B2B_ROTR(b ^ c, 63);       \
    } while (0)
#define B2B_ROUNDS(v, m)                                                \
    for (int r = 0; r < 12; r++) {                                      \
        const uint8_t *z = blake2b_sigma[r];                            \
        B2B_G(v[0], v[4], v[8], v[12], m[z[0]], m[z[1]]);               \
        B2B_G(v[1], v[5], v[9], v[13], m[z[2]], m[z[3]]);               \
        B2B_G(v[2], v[6], v[10], v[14], m[z[4]], m[z[5]]);              \
        B2B_G(v[3], v[7], v[11], v[15], m[z[6]], m[z[7]]);              \
        B2B_G(v[0], v[5], v[10], v[15], m[z[8]], m[z[9]]);              \
        B2B_G(v[1], v[6], v[11], v[12], m[z[10]], m[z[11]]);            \
        B2B_G(v[2], v[7], v[8], v[13], m[z[12]], m[z[13]]);             \
        B2B_G(v[3], v[4], v[9], v[14], m[z[14]], m[z[15]]);             \
    }

typedef struct {
    uint64_t h[8];
    uint64_t t; /* bytes compressed so far (inputs here stay far below 2^64: the counter's high word is 0) */
    size_t filled;
    uint8_t buf[128];
} blake2b_state;

static uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void store_digest(const uint64_t h[8], uint8_t *out, size_t size) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, h, size);
#else
    for (size_t i = 0; i < size; i++)
        out[i] = (uint8_t)(h[i / 8] >> (8 * (i % 8)));
#endif
}

static void blake2b_compress(blake2b_state *s, const uint8_t block[128], int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++)
        m[i] = load64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = s->h[i];
        v[i + 8] = blake2b_iv[i];
    }
    v[12] ^= s->t;
    if (last)
        v[14] = ~v[14];
    B2B_ROUNDS(v, m)
    for (int i = 0; i < 8; i++)
        s->h[i] ^= v[i] ^ v[i + 8];
}

/* The last block is only known at `final`: a full buffer is compressed when more input arrives. */
static void blake2b_update(blake2b_state *s, const uint8_t *in, size_t n) {
    while (n > 0) {
        if (s->filled == 128) {
            s->t += 128;
            blake2b_compress(s, s->buf, 0);
            s->filled = 0;
        }
        size_t take = 128 - s->filled < n ? 128 - s->filled : n;
        memcpy(s->buf + s->filled, in, take);
        s->filled += take;
        in += take;
        n -= take;
    }
}

static void blake2b_keyed_init(blake2b_state *s, const uint8_t *key, size_t key_len, size_t size) {
    memcpy(s->h, blake2b_iv, sizeof s->h);
    s->h[0] ^= 0x01010000ULL ^ ((uint64_t)key_len << 8) ^ (uint64_t)size;
    s->t = 0;
    memset(s->buf, 0, sizeof s->buf);
    memcpy(s->buf, key, key_len);
    s->filled = 128; /* the key, zero-padded, is the first block */
}

static void blake2b_final(blake2b_state *s, uint8_t *out, size_t size) {
    s->t += s->filled;
    memset(s->buf + s->filled, 0, 128 - s->filled);
    blake2b_compress(s, s->buf, 1);
    store_digest(s->h, out, size);
}

typedef uint64_t v4 __attribute__((vector_size(32)));

/* Four last blocks from one chaining value `h` (the primed state's): lane l is block l, whose message
   ends at byte count t[l]; the digests of the first `lanes` go to their rows of `out` (`size` bytes each). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void blake2b_last_blocks4(const uint64_t h[8], uint8_t blocks[4][128], const uint64_t t[4],
                                 const Py_ssize_t rows[4], int lanes, uint8_t *out, Py_ssize_t size) {
    v4 m[16], v[16];
    uint64_t digests[4][8];
    for (int i = 0; i < 16; i++)
        m[i] = (v4){load64(blocks[0] + 8 * i), load64(blocks[1] + 8 * i), load64(blocks[2] + 8 * i),
                    load64(blocks[3] + 8 * i)};
    for (int i = 0; i < 8; i++) {
        v[i] = (v4){h[i], h[i], h[i], h[i]};
        v[i + 8] = (v4){blake2b_iv[i], blake2b_iv[i], blake2b_iv[i], blake2b_iv[i]};
    }
    v[12] ^= (v4){t[0], t[1], t[2], t[3]};
    v[14] = ~v[14];
    B2B_ROUNDS(v, m)
    for (int i = 0; i < 8; i++) {
        v4 x = v[i] ^ v[i + 8];
        for (int l = 0; l < 4; l++)
            digests[l][i] = h[i] ^ x[l];
    }
    for (int l = 0; l < lanes; l++)
        store_digest(digests[l], out + rows[l] * size, (size_t)size);
}

/* Keyed BLAKE2b of prefix + each value of `c` + suffix, concatenated; NULL with an error set. */
static PyObject *blake2b_column(Py_buffer *key, Py_buffer *prefix, Py_ssize_t digest_size, const column *c,
                                Py_buffer *suffix) {
    PyObject *result = NULL;
    blake2b_state primed, work;
    uint8_t blocks[4][128] = {{0}};
    uint64_t ends[4] = {0};
    Py_ssize_t lane_row[4];
    int lanes = 0;
    if (digest_size < 1 || digest_size > 64 || key->len < 1 || key->len > 64) {
        PyErr_SetString(PyExc_ValueError, "BLAKE2b: size and key length must be 1..64 bytes");
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, c->n * digest_size);
    if (result == NULL)
        return NULL;
    blake2b_keyed_init(&primed, key->buf, (size_t)key->len, (size_t)digest_size);
    blake2b_update(&primed, prefix->buf, (size_t)prefix->len);
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < c->n; i++) {
        const char *data;
        Py_ssize_t size;
        if (column_item(c, i, &data, &size) < 0) {
            Py_CLEAR(result);
            break;
        }
        size_t last = primed.filled + (size_t)size + (size_t)suffix->len;
        if (last > 128) { /* more than one block to go: the streaming path */
            work = primed;
            blake2b_update(&work, (const uint8_t *)data, (size_t)size);
            blake2b_update(&work, suffix->buf, (size_t)suffix->len);
            blake2b_final(&work, out + i * digest_size, (size_t)digest_size);
            continue;
        }
        uint8_t *block = blocks[lanes];
        memcpy(block, primed.buf, primed.filled);
        memcpy(block + primed.filled, data, (size_t)size);
        memcpy(block + primed.filled + size, suffix->buf, (size_t)suffix->len);
        memset(block + last, 0, 128 - last);
        ends[lanes] = primed.t + last;
        lane_row[lanes++] = i;
        if (lanes == 4) {
            blake2b_last_blocks4(primed.h, blocks, ends, lane_row, lanes, out, digest_size);
            lanes = 0;
        }
    }
    if (result != NULL && lanes > 0) /* the last few: the lanes beyond them are ignored */
        blake2b_last_blocks4(primed.h, blocks, ends, lane_row, lanes, out, digest_size);
    /* no key material left on the stack, whichever way out */
    OPENSSL_cleanse(&primed, sizeof primed);
    OPENSSL_cleanse(&work, sizeof work);
    OPENSSL_cleanse(blocks, sizeof blocks);
    return result;
}

static PyObject *blake2b_many(PyObject *self, PyObject *args) {
    Py_buffer key, prefix, suffix;
    Py_ssize_t digest_size;
    PyObject *values, *result = NULL;
    column c;
    if (!PyArg_ParseTuple(args, "y*y*nOy*", &key, &prefix, &digest_size, &values, &suffix))
        return NULL;
    if (column_of_sequence(values, &c) == 0)
        result = blake2b_column(&key, &prefix, digest_size, &c, &suffix);
    return released(result, &c, &key, &prefix, &suffix);
}

static PyObject *blake2b_arrow(PyObject *self, PyObject *args) {
    Py_buffer key, prefix, suffix;
    Py_ssize_t digest_size;
    PyObject *data, *offsets, *result = NULL;
    column c;
    if (!PyArg_ParseTuple(args, "y*y*nOOy*", &key, &prefix, &digest_size, &data, &offsets, &suffix))
        return NULL;
    if (column_of_arrow(data, offsets, &c) == 0)
        result = blake2b_column(&key, &prefix, digest_size, &c, &suffix);
    return released(result, &c, &key, &prefix, &suffix);
}

/* Distinct values of an Arrow string column, exactly: an open-addressing table of 64-bit hashes,
   where equal hashes are compared byte for byte (a collision is two values, never one). The hash
   takes 8 bytes a step and ends in MurmurHash3's finaliser. `bits` < 64 keeps only that many hash
   bits, so tests can force collisions. */
static uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t string_hash(const unsigned char *p, Py_ssize_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, word;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&word, p, 8);
        h = mix64(h ^ word);
    }
    word = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        word |= (uint64_t)p[i] << (8 * i);
    return mix64(h ^ word);
}

typedef struct {
    uint32_t tag; /* the hash's high half (its low bits chose the slot) */
    int32_t code; /* -1: empty; else the value's place in order of first appearance */
} slot;

/* The number of distinct values of `c`; with `codes` (n) each row's code; `firsts` (room for n) gets
   each code's first row. -1 when out of memory. 8-byte slots: half the cache misses of storing the
   whole hash, whose other half only picks the slot. */
static Py_ssize_t distinct_in(const column *c, int bits, int32_t *codes, int32_t *firsts) {
    Py_ssize_t capacity = 16;
    while (capacity < 2 * c->n)
        capacity *= 2;
    slot *table = PyMem_RawMalloc(capacity * sizeof *table);
    if (table == NULL)
        return -1;
    memset(table, 0xff, capacity * sizeof *table);
    const uint64_t keep = bits >= 64 ? ~0ULL : ((1ULL << bits) - 1);
    const unsigned char *data = c->data.buf;
    int32_t distinct = 0;
    for (Py_ssize_t i = 0; i < c->n; i++) {
        const unsigned char *value = data + c->off[i];
        Py_ssize_t size = c->off[i + 1] - c->off[i];
        uint64_t h = string_hash(value, size) & keep;
        uint32_t tag = (uint32_t)(h >> 32);
        for (Py_ssize_t at = (Py_ssize_t)(h & (uint64_t)(capacity - 1));; at = (at + 1) & (capacity - 1)) {
            slot *s = &table[at];
            if (s->code < 0) {
                s->tag = tag;
                s->code = distinct;
                firsts[distinct++] = (int32_t)i;
            } else {
                int32_t row = firsts[s->code];
                if (s->tag != tag || c->off[row + 1] - c->off[row] != size ||
                    memcmp(data + c->off[row], value, (size_t)size) != 0)
                    continue;
            }
            if (codes != NULL)
                codes[i] = s->code;
            break;
        }
    }
    PyMem_RawFree(table);
    return distinct;
}

static int parse_bits(int bits) {
    if (bits >= 1 && bits <= 64)
        return 0;
    PyErr_SetString(PyExc_ValueError, "bits must be in 1..64");
    return -1;
}

/* `column_of_arrow` for the distinct table, whose rows and codes are int32. */
static int column_to_encode(PyObject *data, PyObject *offsets, column *c) {
    if (column_of_arrow(data, offsets, c) < 0)
        return -1;
    if (c->n < INT32_MAX)
        return 0;
    PyErr_SetString(PyExc_ValueError, "too many values for int32 codes");
    return -1;
}

static PyObject *count_distinct_arrow(PyObject *self, PyObject *args) {
    PyObject *data, *offsets, *result = NULL;
    int bits = 64;
    column c;
    if (!PyArg_ParseTuple(args, "OO|i", &data, &offsets, &bits) || parse_bits(bits) < 0)
        return NULL;
    if (column_to_encode(data, offsets, &c) == 0) {
        int32_t *firsts = PyMem_RawMalloc((c.n + 1) * sizeof *firsts);
        Py_ssize_t distinct = -1;
        if (firsts != NULL) {
            Py_BEGIN_ALLOW_THREADS distinct = distinct_in(&c, bits, NULL, firsts);
            Py_END_ALLOW_THREADS
        }
        PyMem_RawFree(firsts);
        result = distinct < 0 ? PyErr_NoMemory() : PyLong_FromSsize_t(distinct);
    }
    column_release(&c);
    return result;
}

/* (codes, firsts): int32 bytes, each row's code and each code's first row (see `distinct_in`). */
static PyObject *encode_arrow(PyObject *self, PyObject *args) {
    PyObject *data, *offsets, *codes = NULL, *firsts = NULL, *result = NULL;
    int bits = 64;
    column c;
    if (!PyArg_ParseTuple(args, "OO|i", &data, &offsets, &bits) || parse_bits(bits) < 0)
        return NULL;
    if (column_to_encode(data, offsets, &c) < 0)
        goto done;
    codes = PyBytes_FromStringAndSize(NULL, c.n * (Py_ssize_t)sizeof(int32_t));
    firsts = PyBytes_FromStringAndSize(NULL, c.n * (Py_ssize_t)sizeof(int32_t));
    if (codes == NULL || firsts == NULL)
        goto done;
    int32_t *code_of = (int32_t *)PyBytes_AS_STRING(codes), *first_of = (int32_t *)PyBytes_AS_STRING(firsts);
    Py_ssize_t distinct;
    Py_BEGIN_ALLOW_THREADS distinct = distinct_in(&c, bits, code_of, first_of);
    Py_END_ALLOW_THREADS
    if (distinct < 0)
        PyErr_NoMemory();
    else if (_PyBytes_Resize(&firsts, distinct * (Py_ssize_t)sizeof(int32_t)) == 0)
        result = PyTuple_Pack(2, codes, firsts);
done:
    Py_XDECREF(codes);
    Py_XDECREF(firsts);
    column_release(&c);
    return result;
}

/* IBAN pseudonyms from their keyed digests (`financial._iban_bytes`, the reference, computes the same
   bytes in numpy, where the mod-97 check over ~30 characters took ~30 passes over the column: 0.8 s
   a million). Each row of `chars` (n x length upper-case ASCII) keeps its country, its BBAN's digits
   stay digits (seed byte % 10) and the rest become letters (% 26), its first `bank` characters are
   "0" / "X" (a bank identifier no bank holds), and its check digits are recomputed (ISO 7064 mod 97
   over BBAN + country + "00", a letter as two digits, A = 10). `seeds`: n rows of `seed_size` bytes. */
static int mod97_value(uint8_t b) { return b >= '0' && b <= '9' ? b - '0' : b >= 'A' && b <= 'Z' ? b - 'A' + 10 : 0; }
static int mod97_place(uint8_t b) { return b >= 'A' && b <= 'Z' ? 100 : 10; }

static PyObject *iban_bytes(PyObject *self, PyObject *args) {
    Py_buffer chars, seeds;
    Py_ssize_t length, bank;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*nn", &chars, &seeds, &length, &bank))
        return NULL;
    Py_ssize_t n = length > 4 ? chars.len / length : 0;
    Py_ssize_t seed_size = n > 0 ? seeds.len / n : 0;
    if (length <= 4 || chars.len % length != 0 || (n > 0 && (seeds.len % n != 0 || seed_size < length - 4)) ||
        bank < 0 || bank > length - 4) {
        PyErr_SetString(PyExc_ValueError, "iban_bytes: chars must be n rows of length > 4, seeds n rows of at least "
                                          "length - 4 bytes, bank within the BBAN");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, chars.len);
    if (result == NULL)
        goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint8_t *row = (const uint8_t *)chars.buf + i * length;
        const uint8_t *seed = (const uint8_t *)seeds.buf + i * seed_size;
        uint8_t *to = out + i * length;
        int remainder = 0;
        for (Py_ssize_t j = 4; j < length; j++) {
            int digit = row[j] >= '0' && row[j] <= '9';
            uint8_t b = j - 4 < bank ? (digit ? '0' : 'X') : digit ? '0' + seed[j - 4] % 10 : 'A' + seed[j - 4] % 26;
            to[j] = b;
            remainder = (remainder * mod97_place(b) + mod97_value(b)) % 97;
        }
        for (int j = 0; j < 2; j++)
            remainder = (remainder * mod97_place(row[j]) + mod97_value(row[j])) % 97;
        int check = 98 - remainder * 100 % 97;
        to[0] = row[0];
        to[1] = row[1];
        to[2] = (uint8_t)('0' + check / 10);
        to[3] = (uint8_t)('0' + check % 10);
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&chars);
    PyBuffer_Release(&seeds);
    return result;
}

static PyMethodDef methods[] = {
    {"hmac_sha256_many", hmac_sha256_many, METH_VARARGS, "HMAC-SHA-256 of prefix + value for each value, concatenated."},
    {"blake2b_many", blake2b_many, METH_VARARGS, "Keyed BLAKE2b of prefix + value + suffix for each value, concatenated."},
    {"hmac_sha256_arrow", hmac_sha256_arrow, METH_VARARGS, "hmac_sha256_many over Arrow string buffers (data, int32 offsets)."},
    {"blake2b_arrow", blake2b_arrow, METH_VARARGS, "blake2b_many over Arrow string buffers (data, int32 offsets)."},
    {"count_distinct_arrow", count_distinct_arrow, METH_VARARGS, "Distinct values of Arrow string buffers (data, int32 offsets)."},
    {"encode_arrow", encode_arrow, METH_VARARGS, "(code per row, first row per code) of Arrow string buffers, int32 bytes."},
    {"iban_bytes", iban_bytes, METH_VARARGS, "IBAN pseudonyms (n x length bytes) from upper-case IBANs and keyed seeds."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_keyed_many", NULL, -1, methods};

PyMODINIT_FUNC PyInit__keyed_many(void) { return PyModule_Create(&module); }
