/*  ef_embed.c: a build-time tool that turns the dashboard's files into C:
    `ef_embed OUT.c NAME=FILE...` writes the table ef_assets.c serves
    from (ef_assets.h, ef_asset_t), one row per NAME (the path under
    /assets/, "js/app.js"): its content type (from the extension), its
    bytes, the same gzip'd (level 9; left out when it would not be
    smaller) and a strong ETag per representation (FNV-1a 64 of the bytes
    and their length). Rows are sorted by name, so the bridge finds one by
    binary search; a name given twice is an error. Output is written to
    OUT.c.tmp and renamed, so a failed run leaves no half table. Runs on
    the build machine only; nothing of it is in the bridge. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    const char *name; /* under /assets/ */
    const char *file;
    unsigned char *raw;
    size_t raw_len;
    unsigned char *gz; /* NULL: not smaller than raw */
    size_t gz_len;
} s_file_t;

/*  The Content-Type of a name, by its extension. */
static const char *
s_type (const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr (name, '.');
    if (dot && !strchr (dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp (dot, types[i][0]) == 0)
                return types[i][1];
    return "application/octet-stream";
}

static int
s_read (s_file_t *f)
{
    FILE *in = fopen (f->file, "rb");
    if (!in) {
        perror (f->file);
        return -1;
    }
    size_t cap = 65536;
    f->raw = malloc (cap);
    f->raw_len = 0;
    size_t n;
    while (f->raw &&
           (n = fread (f->raw + f->raw_len, 1, cap - f->raw_len, in)) > 0) {
        f->raw_len += n;
        if (f->raw_len == cap) {
            cap *= 2;
            f->raw = realloc (f->raw, cap);
        }
    }
    int bad = !f->raw || ferror (in);
    fclose (in);
    if (bad)
        fprintf (stderr, "ef_embed: cannot read %s\n", f->file);
    return bad ? -1 : 0;
}

/*  raw gzip'd, kept only when smaller. A gzip header from zlib has no
    name and a zero time, so the same bytes always give the same output. */
static int
s_gzip (s_file_t *f)
{
    z_stream z;
    memset (&z, 0, sizeof z);
    if (deflateInit2 (&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong cap = deflateBound (&z, (uLong)f->raw_len) + 32;
    f->gz = malloc (cap);
    if (!f->gz) {
        deflateEnd (&z);
        return -1;
    }
    z.next_in = f->raw;
    z.avail_in = (uInt)f->raw_len;
    z.next_out = f->gz;
    z.avail_out = (uInt)cap;
    int rc = deflate (&z, Z_FINISH);
    f->gz_len = z.total_out;
    deflateEnd (&z);
    if (rc != Z_STREAM_END)
        return -1;
    if (f->gz_len >= f->raw_len) {
        free (f->gz);
        f->gz = NULL;
        f->gz_len = 0;
    }
    return 0;
}

static uint64_t
s_fnv (const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void
s_bytes (FILE *out, const char *var, const unsigned char *p, size_t n)
{
    fprintf (out, "static const unsigned char %s[%zu] = {", var, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fprintf (out, "%s%u,", i % 20 ? "" : "\n    ", p[i]);
    fprintf (out, "%s};\n", n ? "\n" : "0");
}

static int
s_by_name (const void *a, const void *b)
{
    return strcmp (((const s_file_t *)a)->name, ((const s_file_t *)b)->name);
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: ef_embed OUT.c NAME=FILE...\n");
        return 2;
    }
    int n = argc - 2;
    s_file_t *files = calloc ((size_t)n, sizeof *files);
    if (!files)
        return 1;
    for (int i = 0; i < n; i++) {
        char *eq = strchr (argv[i + 2], '=');
        if (!eq || eq == argv[i + 2] || argv[i + 2][0] == '/') {
            fprintf (stderr, "ef_embed: '%s' is not NAME=FILE\n", argv[i + 2]);
            return 2;
        }
        *eq = 0;
        if (strspn (argv[i + 2],
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                    "opqrstuvwxyz0123456789._-/") != strlen (argv[i + 2]) ||
            strstr (argv[i + 2], "..") || strstr (argv[i + 2], "//")) {
            /* a name is a C string here and a URL path there */
            fprintf (stderr,
                     "ef_embed: %s: a file name of bridge/www/src may hold "
                     "only letters, digits, '.', '_', '-' and '/'\n",
                     argv[i + 2]);
            return 2;
        }
        files[i].name = argv[i + 2];
        files[i].file = eq + 1;
        if (s_read (&files[i]) || s_gzip (&files[i]))
            return 1;
    }
    qsort (files, (size_t)n, sizeof *files, s_by_name);
    for (int i = 1; i < n; i++)
        if (strcmp (files[i - 1].name, files[i].name) == 0) {
            fprintf (stderr, "ef_embed: %s is given twice (%s, %s)\n",
                     files[i].name, files[i - 1].file, files[i].file);
            return 2;
        }
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *out = fopen (tmp, "w");
    if (!out) {
        perror (tmp);
        return 1;
    }
    fprintf (out, "/* generated by bridge/tools/ef_embed.c from bridge/www: "
                  "do not edit */\n#include \"ef_assets.h\"\n\n");
    for (int i = 0; i < n; i++) {
        char var[32];
        snprintf (var, sizeof var, "s_raw_%d", i);
        s_bytes (out, var, files[i].raw, files[i].raw_len);
        if (files[i].gz) {
            snprintf (var, sizeof var, "s_gz_%d", i);
            s_bytes (out, var, files[i].gz, files[i].gz_len);
        }
    }
    fprintf (out, "\nconst ef_asset_t ef_assets_table[] = {\n");
    for (int i = 0; i < n; i++) {
        const s_file_t *f = &files[i];
        uint64_t h = s_fnv (f->raw, f->raw_len) ^ (uint64_t)f->raw_len;
        char gz[32] = "NULL";
        if (f->gz)
            snprintf (gz, sizeof gz, "s_gz_%d", i);
        fprintf (out,
                 "    {\"%s\", \"%s\", s_raw_%d, %zu, %s, %zu,\n"
                 "     \"\\\"%016llx\\\"\", \"\\\"%016llx-gz\\\"\"},\n",
                 f->name, s_type (f->name), i, f->raw_len, gz, f->gz_len,
                 (unsigned long long)h, (unsigned long long)h);
    }
    fprintf (out, "};\nconst unsigned ef_assets_count = %d;\n", n);
    int bad = ferror (out);
    if (fclose (out) || bad || rename (tmp, argv[1])) {
        perror (argv[1]);
        remove (tmp);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        free (files[i].raw);
        free (files[i].gz);
    }
    free (files);
    return 0;
}
