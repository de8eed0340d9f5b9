package company

import (
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// The checks of Russian registration and bank numbers. Each returns nil or a
// derrors.Invalid naming the form field and a message code the surfaces
// translate ("<surface>.error.<code>").

// Message codes of the checks.
const (
	CodeINN        = "company_inn"         // INN: 10 or 12 digits with valid control digits
	CodeINNKind    = "company_inn_kind"    // 10 digits for an organisation, 12 for an entrepreneur
	CodeKPP        = "company_kpp"         // KPP: 9 characters, NNNNPPNNN
	CodeOGRN       = "company_ogrn"        // OGRN (13) / OGRNIP (15) with its control digit
	CodeBIK        = "company_bik"         // BIK: 9 digits starting 04
	CodeAccount    = "company_account"     // settlement account: 20 digits, key valid for the BIK
	CodeCorrAcct   = "company_corr"        // correspondent account: 30101…, key valid for the BIK
	CodeName       = "company_name"        // a name is required
	CodeEmail      = "company_email"       // e-mail for documents
	CodeDate       = "company_date"        // contract date YYYY-MM-DD
	CodeMode       = "company_mode"        // balance or VAT mode
	CodeEmployee   = "company_employee"    // employee login must be an e-mail address
	CodePointTaken = "company_point_taken" // the account is already a point of an organisation
	CodePointDebt  = "company_point_debt"  // a point in debt cannot leave the contract
	CodeNotPoint   = "company_not_point"   // the account is not a point of this organisation
)

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func digit(s string, i int) int { return int(s[i] - '0') }

// weighted is Σ d[i]·w[i] over the first len(w) digits of s.
func weighted(s string, w []int) int {
	sum := 0
	for i, k := range w {
		sum += digit(s, i) * k
	}
	return sum
}

// CheckINN checks an INN: 10 digits (an organisation) or 12 (a person or an
// entrepreneur) with the Federal Tax Service's control digits.
func CheckINN(inn string) error {
	bad := derrors.Invalidf("inn", CodeINN, "INN %q: 10 or 12 digits with valid control digits", inn)
	switch {
	case allDigits(inn, 10):
		if weighted(inn, []int{2, 4, 10, 3, 5, 9, 4, 6, 8})%11%10 != digit(inn, 9) {
			return bad
		}
	case allDigits(inn, 12):
		if weighted(inn, []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8})%11%10 != digit(inn, 10) ||
			weighted(inn, []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8})%11%10 != digit(inn, 11) {
			return bad
		}
	default:
		return bad
	}
	return nil
}

// CheckKPP checks a KPP's shape: the tax office (4 digits), the reason
// (2 digits or capital Latin letters, as the FTS allows since 2013) and a
// number (3 digits). A KPP has no control digit.
func CheckKPP(kpp string) error {
	ok := len(kpp) == 9 && allDigits(kpp[:4], 4) && allDigits(kpp[6:], 3)
	for i := 4; ok && i < 6; i++ {
		c := kpp[i]
		ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
	}
	if !ok {
		return derrors.Invalidf("kpp", CodeKPP, "KPP %q: 9 characters, NNNNPPNNN", kpp)
	}
	return nil
}

// CheckOGRN checks an OGRN (13 digits: the remainder of the first 12 by 11,
// its last digit) or an OGRNIP (15 digits: the first 14 by 13).
func CheckOGRN(ogrn string) error {
	bad := derrors.Invalidf("ogrn", CodeOGRN, "OGRN %q: 13 digits (OGRNIP 15) with a valid control digit", ogrn)
	var n, mod uint64
	switch {
	case allDigits(ogrn, 13):
		mod = 11
	case allDigits(ogrn, 15):
		mod = 13
	default:
		return bad
	}
	for i := 0; i < len(ogrn)-1; i++ {
		n = n*10 + uint64(digit(ogrn, i))
	}
	if int(n%mod%10) != digit(ogrn, len(ogrn)-1) {
		return bad
	}
	return nil
}

// CheckBIK checks a Russian bank's BIK: 9 digits, the country code 04.
func CheckBIK(bik string) error {
	if !allDigits(bik, 9) || !strings.HasPrefix(bik, "04") {
		return derrors.Invalidf("bik", CodeBIK, "BIK %q: 9 digits starting 04", bik)
	}
	return nil
}

// accountKey is the Central Bank's key check (Положение ЦБ РФ № 579-П,
// приложение): the 23 digits of a 3-digit prefix and the 20-digit account,
// weighted 7, 1, 3 repeating, sum to a multiple of 10.
func accountKey(prefix, account string) bool {
	s := prefix + account
	w := [3]int{7, 1, 3}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += digit(s, i) * w[i%3] % 10
	}
	return sum%10 == 0
}

// CheckAccount checks a settlement account against its bank's BIK: the
// prefix is the BIK's last three digits.
func CheckAccount(bik, account string) error {
	if !allDigits(account, 20) || !allDigits(bik, 9) || !accountKey(bik[6:], account) {
		return derrors.Invalidf("account", CodeAccount, "account %q: 20 digits with a key valid for BIK %s", account, bik)
	}
	return nil
}

// CheckCorrAccount checks a correspondent account against the BIK: it
// starts 30101, and its prefix is "0" and the BIK's 5th and 6th digits (the
// Central Bank's settlement division).
func CheckCorrAccount(bik, corr string) error {
	if !allDigits(corr, 20) || !allDigits(bik, 9) || !strings.HasPrefix(corr, "30101") || !accountKey("0"+bik[4:6], corr) {
		return derrors.Invalidf("corr_account", CodeCorrAcct, "correspondent account %q: 30101… with a key valid for BIK %s", corr, bik)
	}
	return nil
}
