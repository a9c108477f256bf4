from __future__ import annotations

import datetime
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker_host.domain import (
    IdKind,
    InvalidIdNumber,
    Keyring,
    mask_id_number,
    normalise_id_number,
    owner_key,
    owner_refs,
    validate_id_number,
)
from locker_host.domain.identity import _WEIGHTS, gb11643_check_char

from .helpers import OWNER_KEYS, PROPERTY


@pytest.mark.parametrize("number", ["360426199101010071", "11010519491231002X"])
def test_published_vectors_are_valid(number: str) -> None:
    parsed = validate_id_number(number)
    assert parsed.kind is IdKind.RESIDENT
    assert parsed.normalised == number


def test_weights_are_two_to_the_power_mod_eleven() -> None:
    # GB 11643-1999: W_i = 2^(17-i) mod 11 (reliability notes, section 4.7).
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == _WEIGHTS


def _iso7064_mod11_2(body: str) -> str:
    # The recursive form, independent of the weight table.
    p = 0
    for digit in body:
        p = ((p + int(digit)) * 2) % 11
    check = (12 - p) % 11
    return "X" if check == 10 else str(check)


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_agrees_with_the_recursive_form(body: str) -> None:
    assert gb11643_check_char(body) == _iso7064_mod11_2(body)


dates = st.dates(min_value=datetime.date(1890, 1, 1), max_value=datetime.date(2099, 12, 31))


@PROPERTY
@given(
    st.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
    dates,
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)
def test_any_well_formed_number_validates_and_one_typo_does_not(
    area: str, birth: datetime.date, order: str
) -> None:
    body = f"{area}{birth:%Y%m%d}{order}"
    number = body + gb11643_check_char(body)
    assert validate_id_number(number).normalised == number
    # A single changed digit always changes the MOD 11-2 check (it detects all single errors).
    position = 14
    typo = body[:position] + str((int(body[position]) + 1) % 10) + body[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        validate_id_number(typo + number[-1])


def test_normalisation_folds_full_width_lower_case_and_spaces() -> None:
    assert normalise_id_number(" １１０１０５ 19491231-002x ") == "11010519491231002X"
    assert validate_id_number("11010519491231002x").normalised == "11010519491231002X"


@pytest.mark.parametrize(
    "number",
    [
        "\u0131TA110090123105",  # dotless i: Unicode upper-cases it to an ASCII I
        "\u00dfA110090123105"[:14],  # sharp s: Unicode upper-cases it to SS (14 -> 15 characters)
        "11010519491231002\u0445",  # Cyrillic small ha: upper-cases to Cyrillic, not X
    ],
)
def test_only_ascii_letters_are_upper_cased(number: str) -> None:
    # The rule is exact and small (docs/operations.md, "Owner keys"): NFKC, separators
    # dropped, a to z upper-cased. Unicode's own upper-casing of other letters would make
    # a non-ASCII input pass as an ID number; it is refused instead.
    with pytest.raises(InvalidIdNumber):
        validate_id_number(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("11010519491231002Y", "check character"),
        ("110105194912310021", "check character"),
        ("11010519491331002X", "month 13"),
        ("110105194902300028", "30 February"),
        ("010105194912310025", "area starting with 0"),
        ("1101051949123100", "too short"),
        ("A1010519491231002X", "letter in the body"),
        ("", "empty"),
    ],
)
def test_invalid_numbers_are_refused_with_a_stable_code(number: str, why: str) -> None:
    with pytest.raises(InvalidIdNumber) as raised:
        validate_id_number(number)
    assert raised.value.code == "invalid_id_number", why


def test_leap_days() -> None:
    body = "110105200002290" + "01"  # 2000 is a leap year (divisible by 400)
    assert validate_id_number(body + gb11643_check_char(body)).kind is IdKind.RESIDENT
    body = "110105190002290" + "01"  # 1900 is not
    with pytest.raises(InvalidIdNumber):
        validate_id_number(body + gb11643_check_char(body))


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hong_kong_macau_taiwan_permits(prefix: str) -> None:
    body = prefix + "19900101" + "001"
    parsed = validate_id_number(body + gb11643_check_char(body))
    assert parsed.kind is IdKind.HMT_RESIDENCE_PERMIT


def test_2023_foreign_permanent_resident_card() -> None:
    # Test vector of the credentialkit library (a foreign card issued in Beijing).
    assert validate_id_number("911398199012310021").kind is IdKind.FOREIGN_PERMANENT_2023
    with pytest.raises(InvalidIdNumber):
        validate_id_number("911398199012310022")


def test_old_foreign_permanent_resident_card_shape() -> None:
    parsed = validate_id_number("kaz110090123105")
    assert parsed.kind is IdKind.FOREIGN_PERMANENT_2004
    assert parsed.normalised == "KAZ110090123105"
    for bad in ("KA1110090123105", "KAZ11009012310A", "KAZ110091323105", "KAZ1100901231"):
        with pytest.raises(InvalidIdNumber):
            validate_id_number(bad)


def test_mask_shows_first_six_and_last_four() -> None:
    assert mask_id_number("13098119900101123X") == "130981********123X"
    assert mask_id_number("KAZ110090123105") == "KAZ110*****3105"
    assert mask_id_number("12345") == "*****"


def test_an_id_number_never_shows_in_its_repr() -> None:
    parsed = validate_id_number("11010519491231002X")
    assert "11010519491231002X" not in repr(parsed)
    assert "11010519491231002X" not in str(parsed)


def test_owner_key_is_hmac_sha256_of_the_normalised_number() -> None:
    parsed = validate_id_number(" 11010519491231002x")
    secret = OWNER_KEYS.secrets[1]
    expected = hmac.new(secret, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert owner_key(secret, parsed) == expected


def test_owner_refs_cover_every_version_current_first() -> None:
    refs = owner_refs(OWNER_KEYS, validate_id_number("360426199101010071"))
    assert [r.key_version for r in refs] == [2, 1]
    assert refs[0].key != refs[1].key


def test_keyring_refuses_short_secrets_and_hides_them() -> None:
    with pytest.raises(ValueError):
        Keyring({1: b"short"}, 1)
    with pytest.raises(ValueError):
        Keyring({1: b"x" * 16}, 2)
    assert "owner-secret" not in repr(OWNER_KEYS)
