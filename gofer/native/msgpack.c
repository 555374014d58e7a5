// msgpack.c: the MessagePack subset of msgpack.h. Type bytes follow the
// MessagePack specification; which form a value is written in follows
// msgpackr, so that a reply is byte for byte what msgpackr would write.
#include "msgpack.h"

#include <string.h>

static uint64_t big_endian(const uint8_t *p, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++) v = v << 8 | p[i];
  return v;
}

// available reports whether size bytes follow p.
static bool available(const struct mp_reader *r, const uint8_t *p, uint64_t size) {
  return size <= (uint64_t)(r->end - p);
}

bool mp_skip(struct mp_reader *r) {
  const uint8_t *p = r->at;
  // pending counts the values still to skip; each takes at least a byte,
  // so a count beyond the bytes left is refused at once.
  uint64_t pending = 1;
  while (pending > 0) {
    pending--;
    if (!available(r, p, 1)) return false;
    uint8_t type = *p++;
    uint64_t values = 0;
    uint64_t payload = 0;
    size_t length_size = 0;
    enum { BYTES, ARRAY, MAP } holds = BYTES;
    if (type <= 0x7f || type >= 0xe0 || (type >= 0xc0 && type <= 0xc3)) {
      // fixint, negative fixint, nil, (never used), false, true
    } else if (type <= 0x8f) {
      values = 2 * (type & 0x0f);
    } else if (type <= 0x9f) {
      values = type & 0x0f;
    } else if (type <= 0xbf) {
      payload = type & 0x1f;
    } else {
      switch (type) {
        case 0xc4: case 0xd9: length_size = 1; break;  // bin 8, str 8
        case 0xc5: case 0xda: length_size = 2; break;  // bin 16, str 16
        case 0xc6: case 0xdb: length_size = 4; break;  // bin 32, str 32
        case 0xcc: case 0xd0: payload = 1; break;      // uint 8, int 8
        case 0xcd: case 0xd1: payload = 2; break;      // uint 16, int 16
        case 0xca: case 0xce: case 0xd2: payload = 4; break;  // float 32, uint 32, int 32
        case 0xcb: case 0xcf: case 0xd3: payload = 8; break;  // float 64, uint 64, int 64
        case 0xdc: length_size = 2; holds = ARRAY; break;
        case 0xdd: length_size = 4; holds = ARRAY; break;
        case 0xde: length_size = 2; holds = MAP; break;
        case 0xdf: length_size = 4; holds = MAP; break;
        default: return false;  // the extension types
      }
    }
    if (length_size > 0) {
      if (!available(r, p, length_size)) return false;
      uint64_t length = big_endian(p, length_size);
      p += length_size;
      if (holds == ARRAY) values = length;
      else if (holds == MAP) values = 2 * length;
      else payload = length;
    }
    if (!available(r, p, payload)) return false;
    p += payload;
    pending += values;
    if (!available(r, p, pending)) return false;
  }
  r->at = p;
  return true;
}

// header reads a type byte from types (first, first+1, ...: 8, 16, 32
// bits of length) and its length; it returns the type's index, or -1.
static int header(const struct mp_reader *r, uint8_t first, int forms, uint64_t *length, const uint8_t **after) {
  static const size_t sizes[] = {1, 2, 4};
  const uint8_t *p = r->at;
  if (!available(r, p, 1) || p[0] < first || p[0] >= first + forms) return -1;
  int form = p[0] - first;
  if (!available(r, p + 1, sizes[form])) return -1;
  *length = big_endian(p + 1, sizes[form]);
  *after = p + 1 + sizes[form];
  return form;
}

bool mp_read_array(struct mp_reader *r, uint32_t *count) {
  if (!available(r, r->at, 1)) return false;
  if ((r->at[0] & 0xf0) == 0x90) {
    *count = r->at[0] & 0x0f;
    r->at++;
    return true;
  }
  uint64_t length;
  const uint8_t *after;
  if (header(r, 0xdc, 2, &length, &after) < 0) return false;
  *count = (uint32_t)length;
  r->at = after;
  return true;
}

bool mp_read_number(struct mp_reader *r, double *value) {
  const uint8_t *p = r->at;
  if (!available(r, p, 1)) return false;
  uint8_t type = p[0];
  if (type <= 0x7f || type >= 0xe0) {
    *value = type <= 0x7f ? type : type - 0x100;
    r->at = p + 1;
    return true;
  }
  size_t size;
  switch (type) {
    case 0xcc: case 0xd0: size = 1; break;
    case 0xcd: case 0xd1: size = 2; break;
    case 0xca: case 0xce: case 0xd2: size = 4; break;
    case 0xcb: size = 8; break;
    default: return false;
  }
  if (!available(r, p + 1, size)) return false;
  uint64_t bits = big_endian(p + 1, size);
  switch (type) {
    case 0xcc: case 0xcd: case 0xce: *value = (double)bits; break;
    case 0xd0: *value = (int8_t)bits; break;
    case 0xd1: *value = (int16_t)bits; break;
    case 0xd2: *value = (int32_t)bits; break;
    case 0xca: {
      uint32_t word = (uint32_t)bits;
      float f;
      memcpy(&f, &word, sizeof f);
      *value = f;
      break;
    }
    default:
      memcpy(value, &bits, sizeof *value);
  }
  r->at = p + 1 + size;
  return true;
}

bool mp_read_bigint(struct mp_reader *r, struct mp_bigint *value) {
  const uint8_t *p = r->at;
  if (!available(r, p, 9) || (p[0] != 0xcf && p[0] != 0xd3)) return false;
  value->bits = big_endian(p + 1, 8);
  value->high = p[0] == 0xcf && value->bits >> 63;
  r->at = p + 9;
  return true;
}

bool mp_read_nil(struct mp_reader *r) {
  if (!available(r, r->at, 1) || r->at[0] != 0xc0) return false;
  r->at++;
  return true;
}

bool mp_read_bool(struct mp_reader *r, bool *value) {
  if (!available(r, r->at, 1) || (r->at[0] != 0xc2 && r->at[0] != 0xc3)) return false;
  *value = r->at[0] == 0xc3;
  r->at++;
  return true;
}

// read_payload reads a length-prefixed value whose forms start at first.
static bool read_payload(struct mp_reader *r, uint8_t first, const uint8_t **bytes, size_t *length) {
  uint64_t size;
  const uint8_t *after;
  if (header(r, first, 3, &size, &after) < 0 || !available(r, after, size)) return false;
  *bytes = after;
  *length = (size_t)size;
  r->at = after + size;
  return true;
}

bool mp_read_str(struct mp_reader *r, const uint8_t **bytes, size_t *length) {
  if (available(r, r->at, 1) && (r->at[0] & 0xe0) == 0xa0) {
    size_t size = r->at[0] & 0x1f;
    if (!available(r, r->at + 1, size)) return false;
    *bytes = r->at + 1;
    *length = size;
    r->at += 1 + size;
    return true;
  }
  return read_payload(r, 0xd9, bytes, length);
}

bool mp_read_bin(struct mp_reader *r, const uint8_t **bytes, size_t *length) {
  return read_payload(r, 0xc4, bytes, length);
}

// put writes size bytes, or sets overflow if they do not fit.
static void put(struct mp_writer *w, const uint8_t *bytes, size_t size) {
  if (w->overflow || size > (size_t)(w->end - w->at)) {
    w->overflow = true;
    return;
  }
  memcpy(w->at, bytes, size);
  w->at += size;
}

// put_typed writes a type byte and value as a size-byte big-endian number.
static void put_typed(struct mp_writer *w, uint8_t type, uint64_t value, size_t size) {
  uint8_t bytes[9] = {type};
  for (size_t i = 0; i < size; i++) bytes[1 + i] = (uint8_t)(value >> (8 * (size - 1 - i)));
  put(w, bytes, 1 + size);
}

// put_length writes a length in the shortest of three forms (8, 16, 32 bits) that start at first.
static void put_length(struct mp_writer *w, uint8_t first, uint64_t length) {
  if (length < 0x100) put_typed(w, first, length, 1);
  else if (length < 0x10000) put_typed(w, first + 1, length, 2);
  else put_typed(w, first + 2, length, 4);
}

void mp_write_array(struct mp_writer *w, uint32_t count) {
  if (count < 16) put_typed(w, 0x90 | count, 0, 0);
  else if (count < 0x10000) put_typed(w, 0xdc, count, 2);
  else put_typed(w, 0xdd, count, 4);
}

void mp_write_number(struct mp_writer *w, double value) {
  if (value >= 0 && value < 4294967296.0 && value == (double)(uint32_t)value) {
    uint32_t u = (uint32_t)value;
    // msgpackr gives fixints the whole of 0..127 when it writes no records.
    if (u < 0x80) put_typed(w, (uint8_t)u, 0, 0);
    else if (u < 0x100) put_typed(w, 0xcc, u, 1);
    else if (u < 0x10000) put_typed(w, 0xcd, u, 2);
    else put_typed(w, 0xce, u, 4);
  } else if (value < 0 && value >= -2147483648.0 && value == (double)(int32_t)value) {
    int32_t i = (int32_t)value;
    if (i >= -32) put_typed(w, (uint8_t)i, 0, 0);
    else if (i >= -0x80) put_typed(w, 0xd0, (uint8_t)i, 1);
    else if (i >= -0x8000) put_typed(w, 0xd1, (uint16_t)i, 2);
    else put_typed(w, 0xd2, (uint32_t)i, 4);
  } else {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    put_typed(w, 0xcb, bits, 8);
  }
}

void mp_write_bigint(struct mp_writer *w, struct mp_bigint value) {
  put_typed(w, value.high ? 0xcf : 0xd3, value.bits, 8);
}

void mp_write_nil(struct mp_writer *w) {
  put_typed(w, 0xc0, 0, 0);
}

void mp_write_bool(struct mp_writer *w, bool value) {
  put_typed(w, value ? 0xc3 : 0xc2, 0, 0);
}

void mp_write_str(struct mp_writer *w, const uint8_t *bytes, size_t length) {
  size_t size = utf8_sanitize(bytes, length, NULL);
  if (size < 32) put_typed(w, 0xa0 | (uint8_t)size, 0, 0);
  else put_length(w, 0xd9, size);
  if (w->overflow || size > (size_t)(w->end - w->at)) {
    w->overflow = true;
    return;
  }
  w->at += utf8_sanitize(bytes, length, w->at);
}

// utf8_char returns where the character that starts at in[i] ends, and
// whether it is whole: a lead byte and every continuation byte it needs.
// When it is not, it ends before the first byte that does not fit.
static size_t utf8_char(const uint8_t *in, size_t length, size_t i, bool *whole) {
  uint8_t lead = in[i];
  size_t follow;
  // low and high bound the first continuation byte; the others are 0x80-0xbf.
  uint8_t low = 0x80;
  uint8_t high = 0xbf;
  if (lead < 0x80) {
    follow = 0;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    follow = 1;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    follow = 2;
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    follow = 3;
    if (lead == 0xf0) low = 0x90;   // no overlong forms
    if (lead == 0xf4) high = 0x8f;  // nothing above U+10FFFF
  } else {
    *whole = false;
    return i + 1;
  }
  size_t end = i + 1;
  while (end - (i + 1) < follow && end < length && in[end] >= low && in[end] <= high) {
    end++;
    low = 0x80;
    high = 0xbf;
  }
  *whole = end - (i + 1) == follow;
  return end;
}

size_t utf8_sanitize(const uint8_t *in, size_t length, uint8_t *out) {
  static const uint8_t replacement[] = {0xef, 0xbf, 0xbd};
  size_t written = 0;
  for (size_t i = 0; i < length;) {
    bool whole;
    size_t end = utf8_char(in, length, i, &whole);
    const uint8_t *piece = whole ? in + i : replacement;
    size_t size = whole ? end - i : sizeof replacement;
    if (out != NULL) memcpy(out + written, piece, size);
    written += size;
    i = end;
  }
  return written;
}
