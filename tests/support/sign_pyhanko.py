"""Sign a PDF with pyHanko as an independent PAdES B-B signer.

Usage: sign_pyhanko.py IN OUT --key KEY.pem --cert CERT.pem [--chain CA.pem ...]
                       [--field NAME]

Writes OUT as an incremental update of IN carrying one invisible signature
(/SubFilter /ETSI.CAdES.detached, SHA-256) in field NAME, created if absent.
Prints {"output": OUT, "field": NAME} on success; on failure prints a message
on stderr and exits non-zero.
"""

import argparse
import json
import logging
import sys

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--chain", action="append", default=[])
    parser.add_argument("--field", default="Signature1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    # SimpleSigner.load logs the cause and returns None when a file is unusable.
    signer = signers.SimpleSigner.load(
        args.key, args.cert, ca_chain_files=args.chain or None
    )
    if signer is None:
        sys.exit(f"sign_pyhanko: cannot load key {args.key} or certificate {args.cert}")
    meta = signers.PdfSignatureMetadata(
        field_name=args.field,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    try:
        with open(args.src, "rb") as src, open(args.dst, "wb") as dst:
            writer = IncrementalPdfFileWriter(src, strict=False)
            signers.PdfSigner(meta, signer=signer).sign_pdf(writer, output=dst)
    except Exception as e:  # report any pyHanko failure as one line
        sys.exit(f"sign_pyhanko: {type(e).__name__}: {e}")
    print(json.dumps({"output": args.dst, "field": args.field}))


if __name__ == "__main__":
    main()
