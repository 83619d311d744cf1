/*
 * Sherd's native addon: the few hot loops of the write and read paths, on blst (the copy
 * c-kzg ships, so commitments are computed by the same field and curve code c-kzg uses).
 *
 *   loadSetup(points)            BGMW tables over the 4096 Lagrange setup points (once per process)
 *   commitBlob(blob)             a blob's KZG commitment by fixed-base MSM over those tables
 *   msm(points, scalars, check)  Σ scalarᵢ·Pointᵢ over compressed G1 points
 *   combineCommitments(C, M)     row j: Σᵢ M[j][i]·Cᵢ, every row from one decompression of C
 *   combineBlobs(blobs, M)       row j, element e: Σᵢ M[j][i]·blobᵢ[e] in Fr (the RS code)
 *   fftEncode(blobs, params, m)  the same code's parity by FFT, for k a power of two
 *   unpackBlob(blob, out)        the 31 payload bytes of each element, back to back (every byte read passes here)
 *
 * Every byte array is a Uint8Array; scalars and field elements are 32 bytes big-endian, as in
 * EIP-4844. Bad input throws an Error with a stable `code`. The functions block their thread:
 * callers run them in worker threads.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blst.h"

#define SETUP_POINTS 4096
#define ELEMENT_BYTES 32
#define BLOB_BYTES (SETUP_POINTS * ELEMENT_BYTES)
#define G1_BYTES 48

/*
 * BGMW (Brickell, Gordon, McCurley, Wilson): the bases are fixed, so precompute
 * Tⱼ,ᵢ = 2^(WINDOW·j)·Lᵢ for every window j. A commitment Σ sᵢ·Lᵢ is then Σⱼ,ᵢ dⱼ(sᵢ)·Tⱼ,ᵢ with
 * dⱼ the signed (Booth) 13-bit digits of sᵢ: one bucket pass over 20 × 4096 points with no
 * doublings between windows, where Pippenger runs one pass per window and doubles in between.
 * 20 windows of 13 bits cover 260 bits, and a canonical scalar (< r < 2^255) leaves the
 * top digit's carry zero.
 */
#define WINDOW 13
#define WINDOWS 20
#define TABLE_POINTS (WINDOWS * SETUP_POINTS)

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static blst_p1_affine *table = NULL;       /* TABLE_POINTS, window-major */
static byte *setup_points = NULL;           /* the compressed points the table was built from */

static napi_value throw_code(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/* The Uint8Array at argument `index`; false (with a pending TypeError) when it is not one. */
static int byte_argument(napi_env env, napi_value value, const char *name, byte **data, size_t *length) {
  napi_typedarray_type type;
  size_t count;
  void *pointer;
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed && napi_get_typedarray_info(env, value, &type, &count, &pointer, NULL, NULL) == napi_ok &&
      type == napi_uint8_array) {
    *data = pointer;
    *length = count;
    return 1;
  }
  char message[96];
  snprintf(message, sizeof message, "%s must be a Uint8Array", name);
  napi_throw_type_error(env, "invalid_argument", message);
  return 0;
}

static napi_value new_bytes(napi_env env, size_t length, byte **data) {
  napi_value buffer, array;
  void *pointer;
  if (napi_create_arraybuffer(env, length, &pointer, &buffer) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array) != napi_ok) return NULL;
  *data = pointer;
  return array;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < expected) {
    napi_throw_type_error(env, "invalid_argument", "too few arguments");
    return 0;
  }
  return 1;
}

/* A canonical field element (< r) from 32 big-endian bytes, as 4 little-endian limbs. */
static int read_element(const byte *bytes, uint64_t limbs[4]) {
  blst_scalar scalar;
  blst_scalar_from_bendian(&scalar, bytes);
  if (!blst_scalar_fr_check(&scalar)) return 0;
  blst_uint64_from_scalar(limbs, &scalar);
  return 1;
}

static void write_element(byte *bytes, const blst_fr *value) {
  blst_scalar scalar;
  blst_scalar_from_uint64(&scalar, value->l);
  blst_bendian_from_scalar(bytes, &scalar);
}

/* ---- setup ---- */

static int build_table(const byte *points) {
  blst_p1_affine *affine = malloc(sizeof(blst_p1_affine) * SETUP_POINTS);
  blst_p1 *jacobian = malloc(sizeof(blst_p1) * TABLE_POINTS);
  blst_p1_affine *built = malloc(sizeof(blst_p1_affine) * TABLE_POINTS);
  int ok = affine && jacobian && built;
  for (size_t i = 0; ok && i < SETUP_POINTS; i++) {
    if (blst_p1_uncompress(&affine[i], points + i * G1_BYTES) != BLST_SUCCESS || !blst_p1_affine_in_g1(&affine[i])) ok = 0;
  }
  for (size_t i = 0; ok && i < SETUP_POINTS; i++) {
    blst_p1 p;
    blst_p1_from_affine(&p, &affine[i]);
    for (size_t j = 0; j < WINDOWS; j++) {
      jacobian[j * SETUP_POINTS + i] = p;
      for (size_t d = 0; d < WINDOW; d++) blst_p1_double(&p, &p);
    }
  }
  if (ok) {
    const blst_p1 *sources[2] = {jacobian, NULL};
    blst_p1s_to_affine(built, sources, TABLE_POINTS);
    __atomic_store_n(&table, built, __ATOMIC_RELEASE); /* published whole: readers take no lock */
  } else {
    free(built);
  }
  free(affine);
  free(jacobian);
  return ok;
}

static napi_value load_setup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  byte *points;
  size_t length;
  if (!get_args(env, info, 1, argv) || !byte_argument(env, argv[0], "points", &points, &length)) return NULL;
  if (length != SETUP_POINTS * G1_BYTES) return throw_code(env, "invalid_argument", "the setup is 4096 compressed G1 points");
  pthread_mutex_lock(&setup_lock);
  int ok = 1;
  const char *problem = NULL;
  if (table) {
    if (memcmp(setup_points, points, length) != 0) problem = "a different setup is already loaded in this process";
  } else if ((setup_points = malloc(length)) == NULL || !build_table(points)) {
    free(setup_points);
    setup_points = NULL;
    problem = "a setup point is not a point of G1";
  } else {
    memcpy(setup_points, points, length);
  }
  ok = problem == NULL;
  pthread_mutex_unlock(&setup_lock);
  if (!ok) return throw_code(env, "bad_setup", problem);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

/* ---- fixed-base commitment ---- */

/*
 * The table's points go into buckets by digit magnitude, the digit's sign applied, and every
 * bucket is summed by rounds of pairwise affine additions. Affine additions are batched: a
 * batch shares one field inversion (Montgomery's trick), so an addition costs 5M + 1S where the
 * mixed additions of Pippenger's buckets take 8M + 2S or more. Then Σ d·B_d, by running sums
 * over 64 groups of 64 buckets, batched the same way. Not constant-time, like the rest of this
 * file: what is committed is public.
 */
#define BUCKETS (1u << (WINDOW - 1)) /* Booth digits lie in [−4096, 4096] */
#define GROUPS 64
#define GROUP_BUCKETS (BUCKETS / GROUPS)
#define BATCH 512 /* a batch's points and field elements stay in L2 */

/* Bits [13j − 1, 13j + 13) of a 256-bit little-endian scalar (bit −1 is 0): Booth's input for digit j. */
static uint32_t booth_bits(const uint64_t limbs[4], size_t j) {
  if (j == 0) return (uint32_t)((limbs[0] << 1) & 0x3fff);
  size_t bit = WINDOW * j - 1, limb = bit / 64, shift = bit % 64;
  uint64_t value = limbs[limb] >> shift;
  if (shift > 64 - 14 && limb + 1 < 4) value |= limbs[limb + 1] << (64 - shift);
  return (uint32_t)(value & 0x3fff);
}

/* Signed digit j: the scalar is Σⱼ digitⱼ·2^(13j). */
static int32_t booth_digit(const uint64_t limbs[4], size_t j) {
  uint32_t bits = booth_bits(limbs, j);
  int32_t magnitude = (int32_t)((bits + 1) >> 1);
  return (bits >> WINDOW) ? magnitude - (1 << WINDOW) : magnitude;
}

static int fp_is_zero(const blst_fp *value) {
  for (size_t i = 0; i < sizeof value->l / sizeof value->l[0]; i++)
    if (value->l[i]) return 0;
  return 1;
}

/* Additions a + b → sum waiting for their shared inversion; sum may be a or b. */
typedef struct {
  const blst_p1_affine *a[BATCH], *b[BATCH];
  blst_p1_affine *sum[BATCH];
  blst_fp dx[BATCH], inverse[BATCH];
  byte ordinary[BATCH];
  size_t count;
} affine_batch;

/* P₁ + P₂ given 1/(x₂ − x₁): λ = (y₂ − y₁)/(x₂ − x₁), x₃ = λ² − x₁ − x₂, y₃ = λ(x₁ − x₃) − y₁. */
static void add_affine(blst_p1_affine *sum, const blst_p1_affine *a, const blst_p1_affine *b, const blst_fp *inverse) {
  blst_fp lambda, x, y;
  blst_fp_sub(&lambda, &b->y, &a->y);
  blst_fp_mul(&lambda, &lambda, inverse);
  blst_fp_sqr(&x, &lambda);
  blst_fp_sub(&x, &x, &a->x);
  blst_fp_sub(&x, &x, &b->x);
  blst_fp_sub(&y, &a->x, &x);
  blst_fp_mul(&y, &y, &lambda);
  blst_fp_sub(&y, &y, &a->y);
  sum->x = x;
  sum->y = y;
}

/* The additions the affine formula cannot make: an infinity, P + P or P − P. */
static void add_exceptional(blst_p1_affine *sum, const blst_p1_affine *a, const blst_p1_affine *b) {
  if (blst_p1_affine_is_inf(a)) {
    *sum = *b;
  } else if (blst_p1_affine_is_inf(b)) {
    *sum = *a;
  } else {
    blst_p1 general;
    blst_p1_from_affine(&general, a);
    blst_p1_add_or_double_affine(&general, &general, b);
    if (blst_p1_is_inf(&general)) memset(sum, 0, sizeof *sum);
    else blst_p1_to_affine(sum, &general);
  }
}

/* Makes every waiting addition, in the order they were queued. */
static void batch_flush(affine_batch *batch) {
  size_t n = batch->count;
  if (n == 0) return;
  blst_fp running;
  for (size_t k = 0; k < n; k++) {
    /* The points of later additions are fetched while this one is computed (~10% faster). */
    if (k + 4 < n) {
      __builtin_prefetch(batch->a[k + 4]);
      __builtin_prefetch(batch->b[k + 4]);
    }
    blst_fp_sub(&batch->dx[k], &batch->b[k]->x, &batch->a[k]->x);
    batch->ordinary[k] = !fp_is_zero(&batch->dx[k]) && !blst_p1_affine_is_inf(batch->a[k]) && !blst_p1_affine_is_inf(batch->b[k]);
    /* Running products of the ordinary denominators: an exceptional addition counts as 1. */
    if (k > 0 && batch->ordinary[k]) blst_fp_mul(&running, &running, &batch->dx[k]);
    else if (k == 0 && batch->ordinary[k]) running = batch->dx[k];
    else if (k == 0) blst_fp_from_uint64(&running, (const uint64_t[6]){1});
    batch->inverse[k] = running;
  }
  blst_fp inverse;
  blst_fp_eucl_inverse(&inverse, &running);
  for (size_t k = n; k-- > 0;) {
    if (!batch->ordinary[k]) continue;
    blst_fp after = inverse; /* 1 / (dx₀ ⋯ dxₖ) */
    if (k > 0) blst_fp_mul(&batch->inverse[k], &after, &batch->inverse[k - 1]);
    else batch->inverse[k] = after;
    blst_fp_mul(&inverse, &after, &batch->dx[k]);
  }
  for (size_t k = 0; k < n; k++) {
    if (batch->ordinary[k]) add_affine(batch->sum[k], batch->a[k], batch->b[k], &batch->inverse[k]);
    else add_exceptional(batch->sum[k], batch->a[k], batch->b[k]);
  }
  batch->count = 0;
}

static void batch_add(affine_batch *batch, const blst_p1_affine *a, const blst_p1_affine *b, blst_p1_affine *sum) {
  size_t k = batch->count++;
  batch->a[k] = a;
  batch->b[k] = b;
  batch->sum[k] = sum;
  if (batch->count == BATCH) batch_flush(batch);
}

/*
 * The buckets are summed a range of RANGE_BUCKETS at a time, so that the points being added
 * (~5,000, 480 KiB) stay in the core's L2 through every round instead of streaming 7.5 MiB
 * through the shared L3 each round: with two threads committing at once, the L3 was what they
 * waited on. `sorted` lists the table indices of the non-zero digits by bucket (the digit's
 * sign in the top bit); bucket b's are sorted[first[b] .. first[b] + size[b]).
 */
#define RANGE_BUCKETS 256
#define NEGATIVE (1u << 31)
typedef struct {
  uint32_t *sorted;
  uint32_t first[BUCKETS + 1], size[BUCKETS + 1];
  /* The range being summed: bucket b holds points[start[b] .. start[b] + count[b]). */
  blst_p1_affine *points;
  uint32_t start[BUCKETS + 1], count[BUCKETS + 1];
  /* Each bucket's sum once its range is done; (0, 0), infinity, when it is empty. */
  blst_p1_affine sums[BUCKETS + 1];
  affine_batch batch;
} bucket_set;

static void sort_digits(bucket_set *set, const int16_t *digits) {
  memset(set->size, 0, sizeof set->size);
  for (size_t n = 0; n < TABLE_POINTS; n++) set->size[abs(digits[n])]++;
  set->size[0] = 0;
  uint32_t cursor[BUCKETS + 1];
  for (uint32_t b = 0, at = 0; b <= BUCKETS; b++) {
    set->first[b] = cursor[b] = at;
    at += set->size[b];
  }
  for (uint32_t n = 0; n < TABLE_POINTS; n++) {
    if (digits[n] != 0) set->sorted[cursor[abs(digits[n])]++] = n | (digits[n] < 0 ? NEGATIVE : 0);
  }
}

/* Copies the table points of buckets lo..hi, signs applied, to the start of `points`. */
static void gather_range(bucket_set *set, const blst_p1_affine *bases, uint32_t lo, uint32_t hi) {
  uint32_t from = set->first[lo], to = set->first[hi] + set->size[hi];
  for (uint32_t i = from; i < to; i++) {
    if (i + 8 < to) __builtin_prefetch(&bases[set->sorted[i + 8] & ~NEGATIVE]);
    blst_p1_affine *point = &set->points[i - from];
    *point = bases[set->sorted[i] & ~NEGATIVE];
    if (set->sorted[i] & NEGATIVE) blst_fp_cneg(&point->y, &point->y, 1);
  }
  for (uint32_t b = lo; b <= hi; b++) {
    set->start[b] = set->first[b] - from;
    set->count[b] = set->size[b];
  }
}

/*
 * One round over buckets lo..hi: the sum of a bucket's pair t (slots 2t and 2t + 1) goes to
 * slot t, which no later pair reads, and an odd last point moves down after them. False when
 * no bucket had two.
 */
static int add_bucket_pairs(bucket_set *set, uint32_t lo, uint32_t hi) {
  int any = 0;
  for (uint32_t b = lo; b <= hi; b++) {
    blst_p1_affine *points = set->points + set->start[b];
    for (uint32_t t = 0; t < set->count[b] / 2; t++) batch_add(&set->batch, &points[2 * t], &points[2 * t + 1], &points[t]);
    any |= set->count[b] > 1;
  }
  batch_flush(&set->batch);
  for (uint32_t b = lo; b <= hi; b++) {
    uint32_t count = set->count[b];
    if (count % 2 == 1) set->points[set->start[b] + count / 2] = set->points[set->start[b] + count - 1];
    set->count[b] = (count + 1) / 2;
  }
  return any;
}

static void sum_buckets(bucket_set *set, const blst_p1_affine *bases) {
  memset(&set->sums[0], 0, sizeof set->sums[0]);
  for (uint32_t lo = 1; lo <= BUCKETS; lo += RANGE_BUCKETS) {
    uint32_t hi = lo + RANGE_BUCKETS - 1 < BUCKETS ? lo + RANGE_BUCKETS - 1 : BUCKETS;
    gather_range(set, bases, lo, hi);
    while (add_bucket_pairs(set, lo, hi)) {
    }
    for (uint32_t b = lo; b <= hi; b++) {
      if (set->count[b]) set->sums[b] = set->points[set->start[b]];
      else memset(&set->sums[b], 0, sizeof set->sums[b]);
    }
  }
}

/*
 * Σ b·B_b. Within each group of buckets, from the top down, a running sum of its buckets and a
 * total that adds the running sum once per bucket: total_g = Σ_s s·B_(64g+s). The groups' chains
 * step together, so each step is one batch. Then Σ_g total_g + 64·Σ_g g·running_g.
 */
static void weigh_buckets(blst_p1 *out, bucket_set *set) {
  blst_p1_affine running[GROUPS], total[GROUPS];
  memset(running, 0, sizeof running);
  memset(total, 0, sizeof total);
  for (uint32_t s = GROUP_BUCKETS; s >= 1; s--) {
    for (uint32_t g = 0; g < GROUPS; g++) {
      const blst_p1_affine *sum = &set->sums[g * GROUP_BUCKETS + s];
      if (!blst_p1_affine_is_inf(sum)) batch_add(&set->batch, &running[g], sum, &running[g]);
    }
    batch_flush(&set->batch);
    for (uint32_t g = 0; g < GROUPS; g++) batch_add(&set->batch, &total[g], &running[g], &total[g]);
    batch_flush(&set->batch);
  }
  blst_p1 totals, chain, weighted;
  memset(&totals, 0, sizeof totals);
  memset(&chain, 0, sizeof chain);
  memset(&weighted, 0, sizeof weighted);
  for (uint32_t g = GROUPS; g-- > 0;) {
    blst_p1_add_or_double_affine(&totals, &totals, &total[g]);
    if (g == 0) break;
    blst_p1_add_or_double_affine(&chain, &chain, &running[g]);
    blst_p1_add_or_double(&weighted, &weighted, &chain);
  }
  for (uint32_t bit = 1; bit < GROUP_BUCKETS; bit <<= 1) blst_p1_double(&weighted, &weighted);
  blst_p1_add_or_double(out, &totals, &weighted);
}

/* Σ sᵢ·Lᵢ over the table, from every digit of every element. */
static int fixed_base_commit(blst_p1 *out, const blst_p1_affine *bases, const int16_t *digits) {
  bucket_set *set = malloc(sizeof *set);
  /* As many as one range could hold: the top window's digits of packed data all fall in buckets 1 and 2. */
  blst_p1_affine *points = malloc(sizeof(blst_p1_affine) * TABLE_POINTS);
  uint32_t *sorted = malloc(sizeof(uint32_t) * TABLE_POINTS);
  int ok = set && points && sorted;
  if (ok) {
    set->points = points;
    set->sorted = sorted;
    set->batch.count = 0;
    sort_digits(set, digits);
    sum_buckets(set, bases);
    weigh_buckets(out, set);
  }
  free(sorted);
  free(points);
  free(set);
  return ok;
}

static napi_value commit_blob(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  byte *blob;
  size_t length;
  if (!get_args(env, info, 1, argv) || !byte_argument(env, argv[0], "blob", &blob, &length)) return NULL;
  if (length != BLOB_BYTES) return throw_code(env, "invalid_argument", "a blob is 131072 bytes");
  const blst_p1_affine *bases = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
  if (!bases) return throw_code(env, "no_setup", "loadSetup must be called first");

  /* One signed digit per table point, window-major as the table. */
  int16_t *digits = malloc(sizeof(int16_t) * TABLE_POINTS);
  if (!digits) return throw_code(env, "out_of_memory", "could not allocate the commitment's scratch space");
  for (size_t i = 0; i < SETUP_POINTS; i++) {
    uint64_t limbs[4];
    if (!read_element(blob + i * ELEMENT_BYTES, limbs)) {
      free(digits);
      char message[96];
      snprintf(message, sizeof message, "field element %zu is not below the BLS12-381 scalar modulus", i);
      return throw_code(env, "non_canonical_field_element", message);
    }
    for (size_t j = 0; j < WINDOWS; j++) digits[j * SETUP_POINTS + i] = (int16_t)booth_digit(limbs, j);
  }
  blst_p1 sum;
  int ok = fixed_base_commit(&sum, bases, digits);
  free(digits);
  if (!ok) return throw_code(env, "out_of_memory", "could not allocate the commitment's scratch space");
  byte *out;
  napi_value result = new_bytes(env, G1_BYTES, &out);
  if (result) blst_p1_compress(out, &sum);
  return result;
}

/* ---- multi-scalar multiplication over given points ---- */

/* Decompresses `count` points; with `check`, each must be in G1. Returns the bad index, or −1. */
static long read_points(const byte *bytes, size_t count, int check, blst_p1_affine *out) {
  for (size_t i = 0; i < count; i++) {
    if (blst_p1_uncompress(&out[i], bytes + i * G1_BYTES) != BLST_SUCCESS) return (long)i;
    if (check && !blst_p1_affine_in_g1(&out[i])) return (long)i;
  }
  return -1;
}

/* Σ scalars[i]·points[i] over the non-zero terms; `scalars` holds little-endian blst scalars. */
static void combine(blst_p1 *out, const blst_p1_affine *points, const blst_scalar *scalars, size_t count) {
  const blst_p1_affine **point_list = malloc(sizeof(*point_list) * (count + 1));
  const byte **scalar_list = malloc(sizeof(*scalar_list) * (count + 1));
  size_t used = 0;
  for (size_t i = 0; i < count; i++) {
    if (blst_p1_affine_is_inf(&points[i])) continue;
    int zero = 1;
    for (size_t b = 0; b < 32 && zero; b++) zero = scalars[i].b[b] == 0;
    if (zero) continue;
    point_list[used] = &points[i];
    scalar_list[used] = scalars[i].b;
    used++;
  }
  memset(out, 0, sizeof(*out));
  if (used == 1) {
    blst_p1_from_affine(out, point_list[0]);
    blst_p1_mult(out, out, scalar_list[0], 255);
  } else if (used > 1) {
    point_list[used] = NULL;
    scalar_list[used] = NULL;
    limb_t *scratch = malloc(blst_p1s_mult_pippenger_scratch_sizeof(used));
    blst_p1s_mult_pippenger(out, point_list, used, scalar_list, 255, scratch);
    free(scratch);
  }
  free(point_list);
  free(scalar_list);
}

static int read_scalars(const byte *bytes, size_t count, blst_scalar *out) {
  for (size_t i = 0; i < count; i++) {
    blst_scalar_from_bendian(&out[i], bytes + i * ELEMENT_BYTES);
    if (!blst_scalar_fr_check(&out[i])) return 0;
  }
  return 1;
}

static napi_value msm(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  byte *point_bytes, *scalar_bytes;
  size_t point_length, scalar_length;
  bool check = true;
  if (!get_args(env, info, 3, argv) || !byte_argument(env, argv[0], "points", &point_bytes, &point_length) ||
      !byte_argument(env, argv[1], "scalars", &scalar_bytes, &scalar_length))
    return NULL;
  napi_get_value_bool(env, argv[2], &check);
  size_t count = point_length / G1_BYTES;
  if (point_length % G1_BYTES != 0 || scalar_length != count * ELEMENT_BYTES)
    return throw_code(env, "invalid_argument", "points are 48 bytes each and there is one 32-byte scalar per point");
  blst_p1_affine *points = malloc(sizeof(blst_p1_affine) * (count + 1));
  blst_scalar *scalars = malloc(sizeof(blst_scalar) * (count + 1));
  long bad = read_points(point_bytes, count, check, points);
  int scalars_ok = read_scalars(scalar_bytes, count, scalars);
  blst_p1 sum;
  if (bad < 0 && scalars_ok) combine(&sum, points, scalars, count);
  free(points);
  free(scalars);
  if (bad >= 0) {
    char message[96];
    snprintf(message, sizeof message, "point %ld is not a compressed point of G1", bad);
    return throw_code(env, "bad_point", message);
  }
  if (!scalars_ok) return throw_code(env, "non_canonical_field_element", "a scalar is not below the BLS12-381 scalar modulus");
  byte *out;
  napi_value result = new_bytes(env, G1_BYTES, &out);
  if (result) blst_p1_compress(out, &sum);
  return result;
}

/* A rows × columns matrix of canonical field elements from its bytes; false when one is not canonical. */
static int read_matrix(napi_env env, napi_value value, size_t columns, size_t *rows, byte **bytes) {
  size_t length;
  if (!byte_argument(env, value, "matrix", bytes, &length)) return 0;
  if (columns == 0 || length == 0 || length % (columns * ELEMENT_BYTES) != 0) {
    napi_throw_type_error(env, "invalid_argument", "the matrix has one 32-byte element per input in every row");
    return 0;
  }
  *rows = length / (columns * ELEMENT_BYTES);
  return 1;
}

/* A combination's two arguments: `count` inputs of `each` bytes back to back, and its matrix. */
static int combination_args(napi_env env, napi_callback_info info, const char *name, size_t each, byte **inputs, size_t *count,
                            byte **matrix, size_t *rows) {
  napi_value argv[2];
  size_t length;
  if (!get_args(env, info, 2, argv) || !byte_argument(env, argv[0], name, inputs, &length)) return 0;
  *count = length / each;
  if (length % each != 0 || *count == 0) {
    char message[96];
    snprintf(message, sizeof message, "%s are %zu bytes each, at least one", name, each);
    napi_throw_type_error(env, "invalid_argument", message);
    return 0;
  }
  return read_matrix(env, argv[1], *count, rows, matrix);
}

static napi_value combine_commitments(napi_env env, napi_callback_info info) {
  byte *point_bytes, *matrix_bytes;
  size_t count, rows;
  if (!combination_args(env, info, "commitments", G1_BYTES, &point_bytes, &count, &matrix_bytes, &rows)) return NULL;
  blst_p1_affine *points = malloc(sizeof(blst_p1_affine) * count);
  blst_scalar *scalars = malloc(sizeof(blst_scalar) * rows * count);
  long bad = read_points(point_bytes, count, 1, points);
  int scalars_ok = read_scalars(matrix_bytes, rows * count, scalars);
  byte *out = NULL;
  napi_value result = NULL;
  if (bad < 0 && scalars_ok && (result = new_bytes(env, rows * G1_BYTES, &out))) {
    for (size_t j = 0; j < rows; j++) {
      blst_p1 sum;
      combine(&sum, points, scalars + j * count, count);
      blst_p1_compress(out + j * G1_BYTES, &sum);
    }
  }
  free(points);
  free(scalars);
  if (bad >= 0) return throw_code(env, "bad_point", "a commitment is not a compressed point of G1");
  if (!scalars_ok) return throw_code(env, "non_canonical_field_element", "a matrix element is not below the BLS12-381 scalar modulus");
  return result;
}

/* Input `bad` = blob · 4096 + element was not below r. */
static napi_value throw_bad_element(napi_env env, long bad) {
  char message[120];
  snprintf(message, sizeof message, "element %ld of input blob %ld is not below the BLS12-381 scalar modulus", bad % SETUP_POINTS,
           bad / SETUP_POINTS);
  return throw_code(env, "non_canonical_field_element", message);
}

/* ---- the Reed-Solomon code over Fr ---- */

/*
 * Output row j, element e: Σᵢ M[j][i]·inputᵢ[e]. The matrix goes into Montgomery form and the
 * inputs stay in normal form, so one Montgomery multiplication (a·R · b · R⁻¹ = a·b) gives the
 * product in normal form: no conversion of the 4096 × inputs elements in or out.
 */
static napi_value combine_blobs(napi_env env, napi_callback_info info) {
  byte *blobs, *matrix_bytes;
  size_t inputs, rows;
  if (!combination_args(env, info, "blobs", BLOB_BYTES, &blobs, &inputs, &matrix_bytes, &rows)) return NULL;

  blst_fr *matrix = malloc(sizeof(blst_fr) * rows * inputs);
  blst_fr *column = malloc(sizeof(blst_fr) * inputs);
  if (!matrix || !column) {
    free(matrix);
    free(column);
    return throw_code(env, "out_of_memory", "could not allocate the code's matrix");
  }
  int ok = 1;
  for (size_t x = 0; x < rows * inputs && ok; x++) {
    blst_scalar scalar;
    blst_scalar_from_bendian(&scalar, matrix_bytes + x * ELEMENT_BYTES);
    ok = blst_scalar_fr_check(&scalar);
    blst_fr_from_scalar(&matrix[x], &scalar);
  }
  if (!ok) {
    free(matrix);
    free(column);
    return throw_code(env, "non_canonical_field_element", "a matrix element is not below the BLS12-381 scalar modulus");
  }
  byte *out;
  napi_value result = new_bytes(env, rows * BLOB_BYTES, &out);
  long bad = -1;
  for (size_t e = 0; result && e < SETUP_POINTS && bad < 0; e++) {
    for (size_t i = 0; i < inputs; i++) {
      if (!read_element(blobs + i * BLOB_BYTES + e * ELEMENT_BYTES, column[i].l)) bad = (long)(i * SETUP_POINTS + e);
    }
    for (size_t j = 0; j < rows && bad < 0; j++) {
      blst_fr sum, product;
      memset(&sum, 0, sizeof sum);
      const blst_fr *row = matrix + j * inputs;
      for (size_t i = 0; i < inputs; i++) {
        blst_fr_mul(&product, &row[i], &column[i]);
        blst_fr_add(&sum, &sum, &product);
      }
      write_element(out + j * BLOB_BYTES + e * ELEMENT_BYTES, &sum);
    }
  }
  free(matrix);
  free(column);
  return bad >= 0 ? throw_bad_element(env, bad) : result;
}


/*
 * Encoding by FFT, when k is a power of two: at each element position the k data values are
 * a polynomial's values on the subgroup H of order k, in bit-reversed order (the code's first
 * k points). An inverse FFT (bit-reversed in, natural out) gives its coefficients; every coset
 * s·H of parity points is a forward FFT (natural in, bit-reversed out) of the coefficients
 * scaled by k⁻¹·sᵗ, and comes out in the parity points' own order. O(k log k) a position against
 * the matrix's k·m. All of it in Montgomery form.
 *   fftEncode(blobs, params, m): params are ω (of order k), ω⁻¹, k⁻¹, then one shift per coset.
 */
static void fft_bitreversed_in(blst_fr *a, size_t n, const blst_fr *twiddles) {
  for (size_t len = 2; len <= n; len <<= 1) {
    size_t half = len / 2, step = n / len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t j = 0; j < half; j++) {
        blst_fr t, u = a[i + j];
        blst_fr_mul(&t, &a[i + j + half], &twiddles[j * step]);
        blst_fr_add(&a[i + j], &u, &t);
        blst_fr_sub(&a[i + j + half], &u, &t);
      }
    }
  }
}

static void fft_bitreversed_out(blst_fr *a, size_t n, const blst_fr *twiddles) {
  for (size_t len = n; len >= 2; len >>= 1) {
    size_t half = len / 2, step = n / len;
    for (size_t i = 0; i < n; i += len) {
      for (size_t j = 0; j < half; j++) {
        blst_fr t, u = a[i + j], v = a[i + j + half];
        blst_fr_add(&a[i + j], &u, &v);
        blst_fr_sub(&t, &u, &v);
        blst_fr_mul(&a[i + j + half], &t, &twiddles[j * step]);
      }
    }
  }
}

/* Powers 1, x, x², … (count of them), in Montgomery form. */
static void powers(blst_fr *out, const blst_fr *x, size_t count, const blst_fr *first) {
  if (count == 0) return;
  out[0] = *first;
  for (size_t i = 1; i < count; i++) blst_fr_mul(&out[i], &out[i - 1], x);
}

static napi_value fft_encode(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  byte *blobs, *param_bytes;
  size_t blobs_length, params_length;
  uint32_t m = 0;
  if (!get_args(env, info, 3, argv) || !byte_argument(env, argv[0], "blobs", &blobs, &blobs_length) ||
      !byte_argument(env, argv[1], "params", &param_bytes, &params_length))
    return NULL;
  napi_get_value_uint32(env, argv[2], &m);
  size_t k = blobs_length / BLOB_BYTES;
  size_t cosets = k ? (m + k - 1) / k : 0;
  if (blobs_length % BLOB_BYTES != 0 || k < 2 || (k & (k - 1)) != 0 || m == 0 || params_length != (3 + cosets) * ELEMENT_BYTES)
    return throw_code(env, "invalid_argument", "fftEncode takes k (a power of two) blobs, ω, ω⁻¹, k⁻¹ and one shift per coset");
  blst_fr params[3 + 256];
  for (size_t i = 0; i < 3 + cosets; i++) {
    uint64_t limbs[4];
    if (!read_element(param_bytes + i * ELEMENT_BYTES, limbs)) return throw_code(env, "non_canonical_field_element", "a parameter is not below r");
    blst_fr_from_uint64(&params[i], limbs);
  }
  blst_fr *forward = malloc(sizeof(blst_fr) * k / 2), *inverse = malloc(sizeof(blst_fr) * k / 2);
  blst_fr *scales = malloc(sizeof(blst_fr) * k * cosets), *coefficients = malloc(sizeof(blst_fr) * k), *work = malloc(sizeof(blst_fr) * k);
  blst_fr one;
  const uint64_t one_limbs[4] = {1, 0, 0, 0};
  blst_fr_from_uint64(&one, one_limbs);
  powers(forward, &params[0], k / 2, &one);
  powers(inverse, &params[1], k / 2, &one);
  for (size_t c = 0; c < cosets; c++) powers(scales + c * k, &params[3 + c], k, &params[2]);
  byte *out;
  napi_value result = new_bytes(env, (size_t)m * BLOB_BYTES, &out);
  long bad = -1;
  for (size_t e = 0; result && e < SETUP_POINTS && bad < 0; e++) {
    for (size_t i = 0; i < k && bad < 0; i++) {
      uint64_t limbs[4];
      if (!read_element(blobs + i * BLOB_BYTES + e * ELEMENT_BYTES, limbs)) bad = (long)(i * SETUP_POINTS + e);
      blst_fr_from_uint64(&coefficients[i], limbs);
    }
    if (bad >= 0) break;
    fft_bitreversed_in(coefficients, k, inverse);
    for (size_t c = 0; c < cosets; c++) {
      for (size_t t = 0; t < k; t++) blst_fr_mul(&work[t], &coefficients[t], &scales[c * k + t]);
      fft_bitreversed_out(work, k, forward);
      for (size_t t = 0; t < k && c * k + t < m; t++) {
        uint64_t limbs[4];
        blst_scalar scalar;
        blst_uint64_from_fr(limbs, &work[t]);
        blst_scalar_from_uint64(&scalar, limbs);
        blst_bendian_from_scalar(out + (c * k + t) * BLOB_BYTES + e * ELEMENT_BYTES, &scalar);
      }
    }
  }
  free(forward);
  free(inverse);
  free(scales);
  free(coefficients);
  free(work);
  return bad >= 0 ? throw_bad_element(env, bad) : result;
}

#define PAYLOAD_BYTES_PER_ELEMENT (ELEMENT_BYTES - 1)

static napi_value unpack_blob(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  byte *blob, *out;
  size_t blob_length, out_length;
  if (!get_args(env, info, 2, argv) || !byte_argument(env, argv[0], "blob", &blob, &blob_length) ||
      !byte_argument(env, argv[1], "out", &out, &out_length))
    return NULL;
  if (blob_length != BLOB_BYTES || out_length != SETUP_POINTS * PAYLOAD_BYTES_PER_ELEMENT)
    return throw_code(env, "invalid_argument", "unpackBlob takes a 131072-byte blob and a 126976-byte output");
  for (size_t e = 0; e < SETUP_POINTS; e++)
    memcpy(out + e * PAYLOAD_BYTES_PER_ELEMENT, blob + e * ELEMENT_BYTES + 1, PAYLOAD_BYTES_PER_ELEMENT);
  return argv[1];
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"loadSetup", NULL, load_setup, NULL, NULL, NULL, napi_default, NULL},
      {"commitBlob", NULL, commit_blob, NULL, NULL, NULL, napi_default, NULL},
      {"msm", NULL, msm, NULL, NULL, NULL, napi_default, NULL},
      {"combineCommitments", NULL, combine_commitments, NULL, NULL, NULL, napi_default, NULL},
      {"combineBlobs", NULL, combine_blobs, NULL, NULL, NULL, napi_default, NULL},
      {"fftEncode", NULL, fft_encode, NULL, NULL, NULL, napi_default, NULL},
      {"unpackBlob", NULL, unpack_blob, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
