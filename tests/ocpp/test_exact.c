/*
 * test_exact.c - numbers checked on their decimal value, on tables generated from tests/ocpp/schemas
 * (keywords JSON Schema defines but OCPP 2.0.1 does not use: multipleOf, minLength, exclusive bounds).
 * White-box: links validate.c and decimal.c with those test tables instead of the 2.0.1 ones.
 */
#include "check.h"
#include "internal.h"

#include <stdlib.h>

struct ncase {
    const char *name;
    const char *payload;
    enum ocpp_error code;
};

#define PCV OCPP_E_PROPERTY_CONSTRAINT_VIOLATION
static const struct ncase cases[] = {
    {"limit_8_1_multiple_of_0_1", "{\"limit\":8.1}", OCPP_OK},
    {"limit_0_3_multiple_of_0_1", "{\"limit\":0.3}", OCPP_OK},
    {"limit_1000_5_multiple_of_0_1_at_maximum", "{\"limit\":1000.5}", OCPP_OK},
    {"limit_integer_multiple_of_0_1", "{\"limit\":16}", OCPP_OK},
    {"limit_exponent_form_81e_1", "{\"limit\":81e-1}", OCPP_OK},
    {"limit_0_zero", "{\"limit\":0}", OCPP_OK},
    {"limit_8_15_not_multiple", "{\"limit\":8.15}", PCV},
    {"limit_0_05_not_multiple", "{\"limit\":0.05}", PCV},
    {"limit_above_maximum", "{\"limit\":1000.6}", PCV},
    {"limit_below_minimum", "{\"limit\":-0.1}", PCV},
    {"limit_negative_zero_is_minimum", "{\"limit\":-0}", OCPP_OK},
    {"limit_required", "{}", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION},
    {"third_0_9", "{\"limit\":1,\"third\":0.9}", OCPP_OK},
    {"third_0_3", "{\"limit\":1,\"third\":0.3}", OCPP_OK},
    {"third_1_2e3", "{\"limit\":1,\"third\":1.2e3}", OCPP_OK},
    {"third_negative_0_6", "{\"limit\":1,\"third\":-0.6}", OCPP_OK},
    {"third_0_1_not_multiple", "{\"limit\":1,\"third\":0.1}", PCV},
    {"third_1_not_multiple", "{\"limit\":1,\"third\":1}", PCV},
    {"five_10", "{\"limit\":1,\"five\":10}", OCPP_OK},
    {"five_10_0_integer", "{\"limit\":1,\"five\":10.0}", OCPP_OK},
    {"five_12_not_multiple", "{\"limit\":1,\"five\":12}", PCV},
    {"five_1e20", "{\"limit\":1,\"five\":1e20}", OCPP_OK},
    {"five_12_5_not_integer", "{\"limit\":1,\"five\":12.5}", OCPP_E_TYPE_CONSTRAINT_VIOLATION},
    {"cent_19_99", "{\"limit\":1,\"cent\":19.99}", OCPP_OK},
    {"cent_0_07", "{\"limit\":1,\"cent\":0.07}", OCPP_OK},
    {"cent_0_001_not_multiple", "{\"limit\":1,\"cent\":0.001}", PCV},
    {"name_min_length_2_ok", "{\"limit\":1,\"name\":\"ab\"}", OCPP_OK},
    {"name_min_length_1_rejected", "{\"limit\":1,\"name\":\"a\"}", PCV},
    {"name_min_length_counts_code_points", "{\"limit\":1,\"name\":\"\xc3\xa9\"}", PCV},
    {"name_max_length_4_multibyte_ok", "{\"limit\":1,\"name\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"}", OCPP_OK},
    {"positive_exclusive_minimum_0_rejected", "{\"limit\":1,\"positive\":0}", PCV},
    {"positive_tiny_ok", "{\"limit\":1,\"positive\":1e-300}", OCPP_OK},
    {"below_exclusive_maximum_100_rejected", "{\"limit\":1,\"below\":100}", PCV},
    {"below_99_99_ok", "{\"limit\":1,\"below\":99.99}", OCPP_OK},
    {"untyped_minimum_applies_to_numbers", "{\"limit\":1,\"untyped\":2}", PCV},
    {"untyped_minimum_ignores_strings", "{\"limit\":1,\"untyped\":\"2\"}", OCPP_OK},
    {"additional_property", "{\"limit\":1,\"x\":1}", OCPP_E_OCCURRENCE_CONSTRAINT_VIOLATION},
};

static void test_decimal_units(void)
{
    struct ocpp_dec a, b;
    CHECK(ocpp_dec_from_double(8.1, &a) == 0 && strcmp(a.digits, "81") == 0 && a.exp == -1, "dec_from_double_8_1");
    CHECK(ocpp_dec_from_double(0.1 + 0.2, &a) == 0 && a.ndigits == 17, "dec_from_double_keeps_17_digits_when_needed");
    CHECK(ocpp_dec_parse("1000.50", &a) == 0 && strcmp(a.digits, "10005") == 0 && a.exp == -1, "dec_parse_trailing_zeros");
    CHECK(ocpp_dec_parse("0.000", &a) == 0 && a.ndigits == 0, "dec_parse_zero");
    CHECK(ocpp_dec_parse("1.", &a) == 0, "dec_parse_trailing_dot_tolerated");
    CHECK(ocpp_dec_parse("abc", &a) == -1 && ocpp_dec_parse("1e", &a) == -1 && ocpp_dec_parse("1e999999", &a) == -1,
          "dec_parse_rejects_non_numbers");
    ocpp_dec_parse("99.99", &a);
    ocpp_dec_parse("1E+2", &b);
    CHECK(ocpp_dec_cmp(&a, &b) < 0 && ocpp_dec_cmp(&b, &a) > 0, "dec_cmp_99_99_below_100");
    ocpp_dec_parse("-5", &a);
    ocpp_dec_parse("-0.5", &b);
    CHECK(ocpp_dec_cmp(&a, &b) < 0, "dec_cmp_negatives");
    ocpp_dec_parse("0.10", &a);
    ocpp_dec_parse("1e-1", &b);
    CHECK(ocpp_dec_cmp(&a, &b) == 0, "dec_cmp_equal_forms");
}

int main(void)
{
    test_decimal_units();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *p = cJSON_Parse(cases[i].payload);
        char desc[256];
        enum ocpp_error e = ocpp_validate("Exact", false, p, desc, sizeof desc);
        CHECK(p && e == cases[i].code, "%s: %s (%s)", cases[i].name, ocpp_error_name(e), desc);
        cJSON_Delete(p);
    }
    return check_done();
}
