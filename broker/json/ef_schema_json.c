/*  ef_schema_json.c: JSON value helpers of the schema validator, used by
    compiling (ef_schema.c) and validating (ef_schema_check.c) alike:
    numbers (value, text, integrality, multipleOf), value types and their
    names, and equality and hashing of values as JSON Schema defines them
    (1 == 1.0, objects regardless of member order); also the growth of
    the compiler's arrays. Declared in ef_schema_int.h with the sj_
    prefix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ef_schema_int.h"

/*  Values nested deeper than this are not compared (jansson's parser stops
    at 2048 anyway; this guards values built by hand). */
#define S_MAX_VALUE_DEPTH 2048
/*  Relative tolerance of multipleOf on non-integers. */
#define S_MULTIPLE_TOL 1e-12

/* -------------------------------------------------------------- numbers */

long double
sj_num (const json_t *v)
{
    if (json_is_integer (v))
        return (long double)json_integer_value (v);
    return (long double)json_real_value (v);
}

/*  Shortest text for a JSON number, for messages. */
void
sj_num_text (const json_t *v, char *out, size_t size)
{
    if (json_is_integer (v)) {
        snprintf (out, size, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
        return;
    }
    double d = json_real_value (v);
    snprintf (out, size, "%.15g", d);
    if (strtod (out, NULL) != d)
        snprintf (out, size, "%.17g", d);
}

/*  1 when v is a number with an integral value. */
int
sj_is_integral (const json_t *v)
{
    if (json_is_integer (v))
        return 1;
    if (!json_is_real (v))
        return 0;
    double d = json_real_value (v);
    return isfinite (d) && d == floor (d);
}

/*  The S_T_* bits that value v has. */
unsigned
sj_type_of (const json_t *v)
{
    switch (json_typeof (v)) {
    case JSON_NULL:
        return S_T_NULL;
    case JSON_TRUE:
    case JSON_FALSE:
        return S_T_BOOLEAN;
    case JSON_OBJECT:
        return S_T_OBJECT;
    case JSON_ARRAY:
        return S_T_ARRAY;
    case JSON_STRING:
        return S_T_STRING;
    case JSON_INTEGER:
        return S_T_NUMBER | S_T_INTEGER;
    case JSON_REAL:
        return S_T_NUMBER | (sj_is_integral (v) ? S_T_INTEGER : 0);
    }
    return 0;
}

const char *
sj_type_name (unsigned bit)
{
    switch (bit) {
    case S_T_NULL:
        return "null";
    case S_T_BOOLEAN:
        return "boolean";
    case S_T_OBJECT:
        return "object";
    case S_T_ARRAY:
        return "array";
    case S_T_NUMBER:
        return "number";
    case S_T_STRING:
        return "string";
    case S_T_INTEGER:
        return "integer";
    }
    return "?";
}

/*  The name of v's type in messages ("integer" for 3, "number" for 3.5). */
const char *
sj_value_type_name (const json_t *v)
{
    unsigned t = sj_type_of (v);
    return sj_type_name (t & S_T_INTEGER ? S_T_INTEGER : t);
}

/*  1 when v (a number) is a multiple of m (a number > 0). */
int
sj_multiple_of (const json_t *v, const json_t *m)
{
    if (json_is_integer (v) && json_is_integer (m))
        return json_integer_value (v) % json_integer_value (m) == 0;
    /*  Binary floating point cannot hold 0.0001 or 0.0075, so the quotient
        of such decimals is an integer only up to rounding: accept it when
        it is within a relative S_MULTIPLE_TOL of one. A quotient near 0
        (v much smaller than m) is then never accepted, except 0 itself. */
    double q = (double)sj_num (v) / (double)sj_num (m);
    if (!isfinite (q))
        return 0;
    double r = round (q);
    return fabs (q - r) <= fabs (q) * S_MULTIPLE_TOL;
}

/* ------------------------------------------------------------- equality */

/*  1 when a and b are equal JSON values (numbers by value, so 1 == 1.0;
    objects regardless of order); 0 when not; -1 when nested deeper than
    S_MAX_VALUE_DEPTH. */
int
sj_equal (const json_t *a, const json_t *b, int depth)
{
    if (depth > S_MAX_VALUE_DEPTH)
        return -1;
    if (json_is_number (a) && json_is_number (b))
        return sj_num (a) == sj_num (b);
    if (json_typeof (a) != json_typeof (b))
        return 0;
    switch (json_typeof (a)) {
    case JSON_STRING:
        return json_string_length (a) == json_string_length (b) &&
               memcmp (json_string_value (a), json_string_value (b),
                       json_string_length (a)) == 0;
    case JSON_ARRAY: {
        size_t n = json_array_size (a);
        if (n != json_array_size (b))
            return 0;
        for (size_t i = 0; i < n; i++) {
            int e = sj_equal (json_array_get (a, i), json_array_get (b, i),
                              depth + 1);
            if (e != 1)
                return e;
        }
        return 1;
    }
    case JSON_OBJECT: {
        if (json_object_size (a) != json_object_size (b))
            return 0;
        const char *key;
        size_t klen;
        json_t *va;
        json_object_keylen_foreach ((json_t *)a, key, klen, va)
        {
            json_t *vb = json_object_getn (b, key, klen);
            if (!vb)
                return 0;
            int e = sj_equal (va, vb, depth + 1);
            if (e != 1)
                return e;
        }
        return 1;
    }
    default: /* null, true, false: the type says it all */
        return 1;
    }
}

uint64_t
sj_mix (uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t
s_hash_bytes (const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return sj_mix (h);
}

/*  A hash that agrees with sj_equal: equal values hash alike (numbers are
    hashed as doubles, so 1 and 1.0 do; objects by an order-free sum).
    Deep values hash by their type only (sj_equal then judges them). */
uint64_t
sj_hash (const json_t *v, int depth)
{
    uint64_t h = (uint64_t)json_typeof (v) + 1;
    if (depth > S_MAX_VALUE_DEPTH)
        return h;
    switch (json_typeof (v)) {
    case JSON_INTEGER:
    case JSON_REAL: {
        double d = (double)sj_num (v);
        uint64_t bits;
        if (d == 0)
            d = 0; /* -0 == 0 */
        memcpy (&bits, &d, sizeof bits);
        return sj_mix (bits ^ 0x9e3779b97f4a7c15ull);
    }
    case JSON_STRING:
        return s_hash_bytes (json_string_value (v), json_string_length (v));
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size (v); i++)
            h = sj_mix (h * 31 + sj_hash (json_array_get (v, i), depth + 1));
        return h;
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *m;
        uint64_t sum = 0;
        json_object_keylen_foreach ((json_t *)v, key, klen, m)
        {
            sum +=
                sj_mix (s_hash_bytes (key, klen) * 31 + sj_hash (m, depth + 1));
        }
        return sj_mix (h ^ sum);
    }
    default:
        return sj_mix (h);
    }
}

int
sj_reserve (void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *nv = realloc (*v, c * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}
