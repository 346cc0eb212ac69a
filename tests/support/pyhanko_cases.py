"""Make the signed and changed PDFs that kyso's verifier is tested on.

Usage: pyhanko_cases.py JOBS.json

JOBS.json holds a JSON array of jobs, run in order in this one process (a
Python start costs more than a signature), so a job may use an earlier
job's output. Every job writes its "dst" as an incremental update of its
"src" with pyHanko's IncrementalPdfFileWriter:

  {"op": "sign", "src", "dst", "key", "cert", "chain": [PEM...],
   "field": NAME, "md": "sha256", "pss": false, "certify": false,
   "docmdp": 2, "reason": null, "location": null,
   "dangerous_ignore_certification": false}
      One invisible PAdES signature (/SubFilter /ETSI.CAdES.detached).
      "pss" signs an RSA key with RSASSA-PSS and pyHanko's longest salt,
      "pss_salt": N with a salt of N bytes; "certify" makes it a
      certification signature with DocMDP permission level "docmdp"
      (ISO 32000-1 12.8.2.2).
  {"op": "fill", "src", "dst", "field": NAME, "value": TEXT}
      Fills the text field NAME (a merged field and widget): a new /V and a
      new normal appearance stream, the change ISO 32000-1 12.8.2.2 calls
      form filling.
  {"op": "change_content", "src", "dst", "text": TEXT}
      Appends a content stream drawing TEXT to the first page, redefining
      the page: a change no signature permits.
  {"op": "overlay_signature_field", "src", "dst", "field": NAME, "text": TEXT}
      Adds an empty (unsigned) signature field whose widget covers the first
      page with an appearance of a white box and TEXT: what the first page
      shows changes although no content stream does (the "sneaky signature"
      attack, Mainka et al., IEEE S&P 2021).

  {"op": "add_dss", "src", "dst", "crls": [DER or PEM file...]}
      Adds the CRLs to the document security store (/DSS /CRLs, ISO 32000-2
      12.8.4.3) in an incremental update: validation data, as for PAdES B-LT.

Prints {"done": N} on success; on failure prints the failing job and the
error on stderr and exits non-zero.
"""

import io
import json
import logging
import sys

from asn1crypto import algos
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def _pss_mechanism(md: str, salt_length: int) -> algos.SignedDigestAlgorithm:
    """RSASSA-PSS with MGF1 over the message hash (RFC 4055 3.1)."""
    return algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": algos.RSASSAPSSParams(
                {
                    "hash_algorithm": {"algorithm": md},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": md},
                    },
                    "salt_length": salt_length,
                }
            ),
        }
    )


def sign(job: dict) -> None:
    md = job.get("md", "sha256")
    # pyHanko's own PSS (prefer_pss) uses the longest salt the key allows;
    # "pss_salt" chooses the length instead.
    salt = job.get("pss_salt")
    signer = signers.SimpleSigner.load(
        job["key"],
        job["cert"],
        ca_chain_files=job.get("chain") or None,
        prefer_pss=job.get("pss", False),
        signature_mechanism=None if salt is None else _pss_mechanism(md, salt),
    )
    if signer is None:
        raise ValueError(f"cannot load key {job['key']} or certificate {job['cert']}")
    meta = signers.PdfSignatureMetadata(
        field_name=job.get("field", "Signature1"),
        md_algorithm=md,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=job.get("reason"),
        location=job.get("location"),
        certify=job.get("certify", False),
        docmdp_permissions=fields.MDPPerm(job.get("docmdp", 2)),
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer)
    if job.get("dangerous_ignore_certification"):
        # A non-conforming signer that signs a document certified with "no
        # changes permitted" anyway: what a verifier must catch.
        pdf_signer._enforce_certification_constraints = lambda reader: None
    with open(job["src"], "rb") as src, open(job["dst"], "wb") as dst:
        writer = IncrementalPdfFileWriter(src, strict=False)
        pdf_signer.sign_pdf(writer, output=dst)


def _find_field(writer: IncrementalPdfFileWriter, name: str):
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == name:
            return ref, field
    raise ValueError(f"no field named {name!r}")


def fill(job: dict) -> None:
    with open(job["src"], "rb") as src:
        writer = IncrementalPdfFileWriter(src, strict=False)
        ref, field = _find_field(writer, job["field"])
        old = field["/AP"]["/N"]
        # PDF string escapes for the appearance's text operator.
        text = job["value"].replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        appearance = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): old["/BBox"],
                generic.NameObject("/Resources"): old["/Resources"],
            },
            stream_data=(
                f"/Tx BMC q BT /Helv 12 Tf 0 g 2 6 Td ({text}) Tj ET Q EMC"
            ).encode("latin-1"),
        )
        field["/V"] = generic.TextStringObject(job["value"])
        field["/AP"] = generic.DictionaryObject(
            {generic.NameObject("/N"): writer.add_object(appearance)}
        )
        writer.mark_update(ref)
        with open(job["dst"], "wb") as dst:
            writer.write(dst)


def change_content(job: dict) -> None:
    with open(job["src"], "rb") as src:
        writer = IncrementalPdfFileWriter(src, strict=False)
        text = job["text"].encode("latin-1")
        stream = generic.StreamObject(
            stream_data=b"BT /F1 24 Tf 72 400 Td (" + text + b") Tj ET"
        )
        writer.add_stream_to_page(0, writer.add_object(stream))
        with open(job["dst"], "wb") as dst:
            writer.write(dst)


def overlay_signature_field(job: dict) -> None:
    with open(job["src"], "rb") as src:
        writer = IncrementalPdfFileWriter(src, strict=False)
        page_ref = writer.find_page_for_modification(0)[0]
        page = page_ref.get_object()
        media_box = page["/MediaBox"]
        x0, y0, x1, y1 = (float(v) for v in media_box)
        text = job["text"].encode("latin-1")
        # A white box over the whole page, and new text on it.
        appearance = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): media_box,
                generic.NameObject("/Resources"): page["/Resources"],
            },
            stream_data=b"1 g %g %g %g %g re f 0 g BT /F1 24 Tf 72 700 Td (%s) Tj ET"
            % (x0, y0, x1 - x0, y1 - y0, text),
        )
        widget = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Widget"),
                generic.NameObject("/FT"): generic.NameObject("/Sig"),
                generic.NameObject("/T"): generic.TextStringObject(job["field"]),
                generic.NameObject("/F"): generic.NumberObject(4),
                generic.NameObject("/Rect"): media_box,
                generic.NameObject("/P"): page_ref,
                generic.NameObject("/AP"): generic.DictionaryObject(
                    {generic.NameObject("/N"): writer.add_object(appearance)}
                ),
            }
        )
        widget_ref = writer.add_object(widget)
        writer.register_annotation(page_ref, widget_ref)
        if "/AcroForm" in writer.root:
            acroform = writer.root["/AcroForm"]
            acroform["/Fields"].append(widget_ref)
            writer.update_container(acroform["/Fields"])
        else:
            writer.root["/AcroForm"] = generic.DictionaryObject(
                {generic.NameObject("/Fields"): generic.ArrayObject([widget_ref])}
            )
            writer.update_root()
        with open(job["dst"], "wb") as dst:
            writer.write(dst)


def add_dss(job: dict) -> None:
    from asn1crypto import crl as asn1_crl
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    crls = []
    for path in job["crls"]:
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"-----"):
            from asn1crypto import pem

            _, _, data = pem.unarmor(data)
        crls.append(asn1_crl.CertificateList.load(data))
    with open(job["src"], "rb") as f:
        out = io.BytesIO(f.read())
    DocumentSecurityStore.add_dss(out, sig_contents=None, crls=crls, force_write=True)
    with open(job["dst"], "wb") as f:
        f.write(out.getvalue())


OPERATIONS = {
    "sign": sign,
    "fill": fill,
    "change_content": change_content,
    "overlay_signature_field": overlay_signature_field,
    "add_dss": add_dss,
}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    logging.basicConfig(level=logging.ERROR)
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    for job in jobs:
        try:
            OPERATIONS[job["op"]](job)
        except Exception as e:  # report which job failed, in one line
            sys.exit(f"pyhanko_cases: {json.dumps(job)}: {type(e).__name__}: {e}")
    print(json.dumps({"done": len(jobs)}))


if __name__ == "__main__":
    main()
