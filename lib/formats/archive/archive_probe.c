/* Content probes for the formats the archive module hands to libarchive.
 * Kept apart from the libarchive glue so detection works (and reports
 * "parser not built") in builds without libarchive. */
#include "formats/archive/archive_probe.h"
#include "util/strutil.h"

/* Old (v7) tar has no magic: trust the header checksum. */
static bool v7_tar(const uint8_t *h, size_t n)
{
    if (n < 512 || h[0] == 0)
        return false;
    uint8_t t = h[156];
    if (t != 0 && (t < '0' || t > '7'))
        return false;
    uint64_t want = 0;
    size_t i = 148, digits = 0;
    while (i < 156 && h[i] == ' ')
        i++;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (uint64_t)(h[i] - '0');
    if (digits == 0)
        return false;
    for (; i < 156; i++)
        if (h[i] != ' ' && h[i] != 0)
            return false;
    uint64_t sum = 0;
    for (i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

/* lzma-alone (joblib 'lzma'): properties byte, then a dictionary size. */
static bool lzma_alone(const uint8_t *h, size_t n)
{
    if (n < 13 || h[0] != 0x5d || h[1] != 0 || h[2] != 0)
        return false;
    uint32_t dict = (uint32_t)h[1] | ((uint32_t)h[2] << 8) | ((uint32_t)h[3] << 16) |
                    ((uint32_t)h[4] << 24);
    /* Encoders write 2^n or 2^n + 2^(n-1). */
    for (int b = 12; b < 32; b++)
        if (dict == (1u << b) || dict == ((1u << b) | (1u << (b - 1))))
            return true;
    return false;
}

int wwi_archive_probe(const uint8_t *h, size_t n, uint64_t size)
{
    (void)size;
    if (n >= 6 && wwi_bytes_eq(h, "7z\xBC\xAF\x27\x1C", 6))
        return 95;
    if (n >= 6 && wwi_bytes_eq(h, "\xFD" "7zXZ\x00", 6))
        return 90;
    if (n >= 4 && wwi_bytes_eq(h, "\x28\xB5\x2F\xFD", 4))
        return 90;
    if (n >= 4 && wwi_bytes_eq(h, "\x04\x22\x4D\x18", 4))
        return 90;
    if (n >= 3 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8)
        return 85;
    if (n >= 4 && wwi_bytes_eq(h, "BZh", 3) && h[3] >= '1' && h[3] <= '9') {
        if (n >= 10 && (wwi_bytes_eq(h + 4, "1AY&SY", 6) ||
                        wwi_bytes_eq(h + 4, "\x17\x72\x45\x38\x50\x90", 6)))
            return 85;
        return 40;
    }
    if (n >= 262 && wwi_bytes_eq(h + 257, "ustar", 5))
        return 80;
    if (v7_tar(h, n))
        return 60;
    if (lzma_alone(h, n))
        return 50;
    return 0;
}
