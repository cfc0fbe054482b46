/* Protobuf wire reader: varint limits, truncation, overlong encodings,
 * groups (nesting bomb), sub-cursors. */
#include "check.h"
#include "codec/pb.h"

static void test_varint(void)
{
    uint64_t v;
    wwi_cur c;
    const uint8_t one[] = {0x01};
    wwi_cur_init(&c, one, 1);
    CHECK(wwi_pb_varint(&c, &v) && v == 1 && wwi_cur_eof(&c));

    const uint8_t two[] = {0xac, 0x02}; /* 300 */
    wwi_cur_init(&c, two, 2);
    CHECK(wwi_pb_varint(&c, &v) && v == 300);

    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    wwi_cur_init(&c, max, sizeof max);
    CHECK(wwi_pb_varint(&c, &v) && v == UINT64_MAX);

    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    wwi_cur_init(&c, over, sizeof over); /* bit 64 set: overflow */
    CHECK(!wwi_pb_varint(&c, &v) && c.err == WW_E_FORMAT);

    const uint8_t longer[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    wwi_cur_init(&c, longer, sizeof longer); /* 11 bytes: overlong */
    CHECK(!wwi_pb_varint(&c, &v) && c.err == WW_E_FORMAT);

    const uint8_t padded[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    wwi_cur_init(&c, padded, sizeof padded); /* 10 bytes, value 0: accepted by protobuf */
    CHECK(wwi_pb_varint(&c, &v) && v == 0);

    const uint8_t cut[] = {0x80, 0x80};
    wwi_cur_init(&c, cut, sizeof cut);
    CHECK(!wwi_pb_varint(&c, &v) && c.err == WW_E_TRUNCATED);

    CHECK(wwi_pb_zigzag64(0) == 0 && wwi_pb_zigzag64(1) == -1 && wwi_pb_zigzag64(2) == 1);
    CHECK(wwi_pb_zigzag64(UINT64_MAX) == INT64_MIN);
    CHECK(wwi_pb_zigzag32(UINT32_MAX) == INT32_MIN);
}

static void test_fields(void)
{
    /* 1: varint 150, 2: "hi", 3: fixed64, 4: fixed32 */
    const uint8_t msg[] = {0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x19, 1, 0, 0, 0, 0, 0, 0, 0,
                           0x25, 2, 0, 0, 0};
    wwi_cur c;
    wwi_pb_field f;
    wwi_cur_init(&c, msg, sizeof msg);
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 1 && f.wt == WWI_PB_VARINT && f.v == 150);
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 2 && f.wt == WWI_PB_LEN && f.len == 2 &&
          f.data_off == 5 && wwi_pb_data(&c, &f)[0] == 'h');
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 3 && f.wt == WWI_PB_I64 && f.v == 1);
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 4 && f.wt == WWI_PB_I32 && f.v == 2);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_OK);

    /* Length past the end: TRUNCATED, and the field is still described. */
    const uint8_t lie[] = {0x12, 0x7f, 'a'};
    wwi_cur_init(&c, lie, sizeof lie);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_TRUNCATED && f.num == 2 && f.len == 0x7f);

    /* Huge length (2^63): no wrap. */
    const uint8_t huge[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    wwi_cur_init(&c, huge, sizeof huge);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_TRUNCATED);

    const uint8_t wt6[] = {0x0e, 0x00}, num0[] = {0x00, 0x00}, eg[] = {0x0c};
    wwi_cur_init(&c, wt6, sizeof wt6);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_FORMAT);
    wwi_cur_init(&c, num0, sizeof num0);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_FORMAT);
    wwi_cur_init(&c, eg, sizeof eg); /* end group without start */
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_FORMAT);

    const uint8_t fixed_cut[] = {0x19, 1, 2, 3};
    wwi_cur_init(&c, fixed_cut, sizeof fixed_cut);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_TRUNCATED);
}

static void test_groups(void)
{
    wwi_cur c;
    wwi_pb_field f;
    /* group 1 { 2: varint 5, group 3 { } } then 4: varint 7 */
    const uint8_t g[] = {0x0b, 0x10, 0x05, 0x1b, 0x1c, 0x0c, 0x20, 0x07};
    wwi_cur_init(&c, g, sizeof g);
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 1 && f.wt == WWI_PB_SGROUP && f.len == 4);
    CHECK(wwi_pb_next(&c, &f, 4) && f.num == 4 && f.v == 7);

    const uint8_t mismatch[] = {0x0b, 0x14}; /* start 1, end 2 */
    wwi_cur_init(&c, mismatch, sizeof mismatch);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_FORMAT);

    const uint8_t open[] = {0x0b, 0x10, 0x05};
    wwi_cur_init(&c, open, sizeof open);
    CHECK(!wwi_pb_next(&c, &f, 4) && c.err == WW_E_TRUNCATED);

    /* Nesting bomb: 100000 start-group tags. */
    static uint8_t bomb[100000];
    memset(bomb, 0x0b, sizeof bomb);
    wwi_cur_init(&c, bomb, sizeof bomb);
    CHECK(!wwi_pb_next(&c, &f, 128) && c.err == WW_E_LIMIT);
    wwi_cur_init(&c, bomb, 3);
    CHECK(!wwi_pb_next(&c, &f, 0) && c.err == WW_E_LIMIT);
}

static void test_sub_and_match(void)
{
    /* 1: { 1: "ab", 2: 3 } */
    const uint8_t m[] = {0x0a, 0x06, 0x0a, 0x02, 'a', 'b', 0x10, 0x03};
    wwi_cur c, sub;
    wwi_pb_field f, g;
    wwi_cur_init(&c, m, sizeof m);
    CHECK(wwi_pb_next(&c, &f, 4));
    wwi_pb_sub(&c, &f, &sub);
    CHECK(wwi_pb_next(&sub, &g, 4) && g.num == 1 && g.data_off == 4); /* absolute offsets */
    CHECK(wwi_pb_next(&sub, &g, 4) && g.num == 2 && g.v == 3);
    CHECK(!wwi_pb_next(&sub, &g, 4) && sub.err == WW_OK);

    static const wwi_pb_shape shape[] = {{1, WWI_PB_LEN}, {2, WWI_PB_VARINT}, {0, 0}};
    CHECK(wwi_pb_match(m + 2, 6, false, shape) == 2);
    CHECK(wwi_pb_match(m, sizeof m, false, shape) == 1);
    CHECK(wwi_pb_match(m + 2, 3, false, shape) == -1); /* cut, not partial */
    CHECK(wwi_pb_match(m + 2, 3, true, shape) == 1);   /* cut, partial head */
    const uint8_t other[] = {0x18, 0x01};
    CHECK(wwi_pb_match(other, 2, true, shape) == -1);
}

int main(void)
{
    test_varint();
    test_fields();
    test_groups();
    test_sub_and_match();
    return CHECK_DONE();
}
