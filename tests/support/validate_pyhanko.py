"""Validate every signature embedded in a PDF with pyHanko and print JSON.

Usage: validate_pyhanko.py PDF --trust ROOT.pem [--trust ...] [--fetch-revocation]

The chain of trust is built to the given roots only (no system trust store),
with no network fetching and soft-fail revocation checking; with
--fetch-revocation pyHanko fetches CRLs from the certificates' distribution
points and fails hard when it cannot (a revoked certificate is untrusted). The file is read
with strict=False, as a lenient reader would. Output, one JSON object:

  {"signatures": [{"field", "type", "intact", "valid", "trusted",
                   "bottom_line", "coverage", "modification_level",
                   "docmdp_ok", "signer", "md_algorithm", "mechanism",
                   "subfilter", "trust_problem", "error"}, ...]}

in signing order. A signature whose validation raises has its booleans false
and the exception in "error". A file pyHanko cannot open exits 1 with the
reason on stderr.
"""

import argparse
import json
import logging
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def _name(value):
    return None if value is None else getattr(value, "name", str(value))


def _report(emb, context) -> dict:
    entry = {
        "field": emb.field_name,
        "type": emb.sig_object_type,
        "subfilter": str(emb.sig_object.get("/SubFilter")),
        "intact": False,
        "valid": False,
        "trusted": False,
        "bottom_line": False,
        "coverage": None,
        "modification_level": None,
        "docmdp_ok": None,
        "signer": None,
        "md_algorithm": None,
        "mechanism": None,
        "trust_problem": None,
        "error": None,
    }
    try:
        if emb.sig_object_type == "/DocTimeStamp":
            status = validate_pdf_timestamp(emb, validation_context=context)
        else:
            status = validate_pdf_signature(emb, signer_validation_context=context)
    except Exception as e:  # a broken signature is a finding, not a crash
        entry["error"] = f"{type(e).__name__}: {e}"
        return entry
    entry.update(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        bottom_line=bool(status.bottom_line),
        coverage=_name(status.coverage),
        modification_level=_name(status.modification_level),
        docmdp_ok=status.docmdp_ok,
        signer=status.signing_cert.subject.human_friendly,
        md_algorithm=status.md_algorithm,
        mechanism=status.pkcs7_signature_mechanism,
        trust_problem=_name(status.trust_problem_indic),
    )
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf")
    parser.add_argument("--trust", action="append", required=True)
    parser.add_argument("--fetch-revocation", action="store_true")
    args = parser.parse_args()
    # pyHanko logs recoverable oddities as warnings; keep stderr for failures.
    logging.basicConfig(level=logging.ERROR)

    try:
        roots = [load_cert_from_pemder(path) for path in args.trust]
    except (OSError, ValueError) as e:
        sys.exit(f"validate_pyhanko: cannot load trust root: {e}")
    if args.fetch_revocation:
        context = ValidationContext(
            trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail"
        )
    else:
        context = ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
        )
    try:
        with open(args.pdf, "rb") as f:
            reader = PdfFileReader(f, strict=False)
            signatures = [_report(emb, context) for emb in reader.embedded_signatures]
    except Exception as e:  # unreadable file: no verdict to report
        sys.exit(f"validate_pyhanko: cannot read {args.pdf}: {type(e).__name__}: {e}")
    print(json.dumps({"signatures": signatures}, indent=1))


if __name__ == "__main__":
    main()
