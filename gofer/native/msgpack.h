// msgpack.h: the part of MessagePack that the ring's messages use, read and
// written as msgpackr (useRecords: false) does on the Sentry's side: nil,
// booleans, numbers (integers and floats, which JavaScript sees alike),
// 64-bit integers (which msgpackr turns into bigints), strings, binary,
// arrays, and maps only to be skipped. Extension types are refused.
//
// Every read is bounds-checked against the reader's end and consumes
// nothing when it fails; every write into a full buffer sets the writer's
// overflow flag instead of writing past its end.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// mp_bigint is a JavaScript bigint as msgpack carries it in 64 bits:
// bits as an int64 (0xd3), or, when high is set, as a uint64 (0xcf) of
// 2^63 or more.
struct mp_bigint {
  uint64_t bits;
  bool high;
};

struct mp_reader {
  const uint8_t *at;
  const uint8_t *end;
};

// mp_skip moves past one whole value, checking that it is complete and
// that every length in it stays within the reader.
bool mp_skip(struct mp_reader *r);

// The mp_read_* calls read one value of their type, or fail and leave the
// reader where it was.
bool mp_read_array(struct mp_reader *r, uint32_t *count);
// mp_read_number reads what JavaScript sees as a number (any integer of up
// to 32 bits, a float32 or a float64), not a 64-bit integer.
bool mp_read_number(struct mp_reader *r, double *value);
bool mp_read_bigint(struct mp_reader *r, struct mp_bigint *value);
bool mp_read_nil(struct mp_reader *r);
bool mp_read_bool(struct mp_reader *r, bool *value);
// mp_read_str and mp_read_bin point into the reader's bytes.
bool mp_read_str(struct mp_reader *r, const uint8_t **bytes, size_t *length);
bool mp_read_bin(struct mp_reader *r, const uint8_t **bytes, size_t *length);

struct mp_writer {
  uint8_t *at;
  uint8_t *end;
  bool overflow;
};

void mp_write_array(struct mp_writer *w, uint32_t count);
// mp_write_number writes value as msgpackr writes a JavaScript number: an
// integer that fits 32 bits in the shortest integer form, anything else as
// a float64.
void mp_write_number(struct mp_writer *w, double value);
void mp_write_bigint(struct mp_writer *w, struct mp_bigint value);
void mp_write_nil(struct mp_writer *w);
void mp_write_bool(struct mp_writer *w, bool value);
// mp_write_str writes bytes as the string JavaScript decodes them to (see
// utf8_sanitize).
void mp_write_str(struct mp_writer *w, const uint8_t *bytes, size_t length);

// utf8_sanitize copies in to out as a JavaScript string holds it after
// decoding (TextDecoder, Buffer.toString): each maximal invalid UTF-8
// subpart becomes U+FFFD. It returns the length written; out may be NULL
// to measure. The result is at most 3 * length bytes.
size_t utf8_sanitize(const uint8_t *in, size_t length, uint8_t *out);
