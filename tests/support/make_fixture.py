"""Make the input PDFs that kyso's integration tests sign.

Subcommands (each prints one JSON object and exits 0, or prints a message on
stderr and exits non-zero):

  base OUT --pages N [--text-field]
      A small document written by pikepdf with a classic xref table: N pages of
      text, a Vietnamese /Title in the Info dictionary (UTF-16BE, since it is
      outside PDFDocEncoding) and, with --text-field, an AcroForm holding one
      ordinary filled text field on page 1.
  hybrid IN OUT
      Rewrite IN (classic xref, no object streams) as a hybrid-reference file
      (ISO 32000-1 7.5.8.4): a classic table for the catalog, the Info
      dictionary and all streams, and a trailer /XRefStm pointing to an xref
      stream that alone lists the page tree, pages and fonts, which sit in an
      object stream. A reader that ignores /XRefStm finds no pages.
  incremental IN OUT
      Append one incremental update to IN (classic xref) that redefines the
      Info dictionary (new /Title and /ModDate), with a classic xref section
      whose trailer has /Prev (ISO 32000-1 7.5.6).

qpdf can write neither of the last two, hence the hand-written bytes.
"""

import argparse
import json
import re
import sys
import zlib

import pikepdf

TITLE = "Ủy ban nhân dân tỉnh Hòa Bình"
FIXED_DATE = "D:20250101080000+07'00'"


def _content(page_no: int, pages: int) -> bytes:
    lines = [
        f"kyso test fixture, page {page_no} of {pages}",
        "Uy ban nhan dan tinh Hoa Binh",
        "This page intentionally carries plain text only.",
    ]
    ops = ["BT", "/F1 14 Tf", "72 760 Td", "18 TL"]
    for line in lines:
        ops.append(f"({line}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def make_base(out: str, pages: int, text_field: bool) -> dict:
    if pages < 1:
        raise SystemExit("base: --pages must be at least 1")
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    for n in range(1, pages + 1):
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                Contents=pdf.make_stream(_content(n, pages)),
            )
        )
        pdf.pages.append(page)

    if text_field:
        first = pdf.pages[0].obj
        appearance = pdf.make_stream(
            b"/Tx BMC q BT /Helv 12 Tf 0 g 2 6 Td (Nguyen Van A) Tj ET Q EMC",
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=[0, 0, 200, 24],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=font)),
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("ho_ten"),
                V=pikepdf.String("Nguyen Van A"),
                DA=pikepdf.String("/Helv 12 Tf 0 g"),
                Rect=[72, 600, 272, 624],
                F=4,
                P=first,
                AP=pikepdf.Dictionary(N=appearance),
            )
        )
        first.Annots = pdf.make_indirect(pikepdf.Array([field]))
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(
                Fields=pikepdf.Array([field]),
                DA=pikepdf.String("/Helv 0 Tf 0 g"),
                DR=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=font)),
            )
        )

    pdf.docinfo = pdf.make_indirect(
        pikepdf.Dictionary(
            Title=pikepdf.String(TITLE),
            Producer=pikepdf.String("kyso test fixture"),
            CreationDate=pikepdf.String(FIXED_DATE),
        )
    )
    pdf.save(
        out,
        object_stream_mode=pikepdf.ObjectStreamMode.disable,
        compress_streams=True,
        deterministic_id=True,
        min_version="1.7",
    )
    return {"output": out, "pages": pages, "text_field": text_field}


def _classic_only(pdf: pikepdf.Pdf, what: str) -> None:
    # Our hand-written output reuses object numbers and raw bytes from IN, which
    # is only sound when IN is a plain classic-xref file with no object streams.
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Type") in (
            pikepdf.Name.ObjStm,
            pikepdf.Name.XRef,
        ):
            raise SystemExit(f"{what}: input must not use object or xref streams")
    if "/Encrypt" in pdf.trailer:
        raise SystemExit(f"{what}: input must not be encrypted")


def _last_startxref(data: bytes) -> int:
    found = re.findall(rb"startxref\s+(\d+)\s+%%EOF", data)
    if not found:
        raise SystemExit("input has no startxref")
    return int(found[-1])


def _serialise(obj: pikepdf.Object) -> bytes:
    """The body of an indirect object: its value, with references unresolved."""
    return obj.unparse(resolved=True)


def make_hybrid(src: str, dst: str) -> dict:
    pdf = pikepdf.open(src)
    _classic_only(pdf, "hybrid")
    size = int(pdf.trailer.Size)
    root = pdf.Root.objgen
    info = pdf.trailer.Info.objgen if "/Info" in pdf.trailer else None

    classic, compressed = [], []
    for obj in pdf.objects:
        num, gen = obj.objgen
        if num == 0:
            continue
        movable = (
            not isinstance(obj, pikepdf.Stream)
            and gen == 0
            and (num, gen) not in (root, info)
        )
        (compressed if movable else classic).append(obj)
    if not compressed:
        raise SystemExit("hybrid: nothing to put in an object stream")
    objstm_num, xrefstm_num, new_size = size, size + 1, size + 2

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def write_object(num: int, gen: int, body: bytes) -> None:
        offsets[num] = (len(out), gen)
        out.extend(b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n")

    for obj in classic:
        num, gen = obj.objgen
        if isinstance(obj, pikepdf.Stream):
            raw = obj.read_raw_bytes()
            obj.stream_dict.Length = len(raw)
            body = obj.stream_dict.unparse(resolved=True)
            body += b"\nstream\n" + raw + b"\nendstream"
        else:
            body = _serialise(obj)
        write_object(num, gen, body)

    # Object stream (ISO 32000-1 7.5.7): "num offset" pairs, then the bodies.
    header, bodies, index = [], bytearray(), {}
    for i, obj in enumerate(compressed):
        num = obj.objgen[0]
        header.append(b"%d %d" % (num, len(bodies)))
        bodies.extend(_serialise(obj) + b"\n")
        index[num] = i
    head = b" ".join(header) + b"\n"
    packed = zlib.compress(head + bytes(bodies))
    write_object(
        objstm_num,
        0,
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>"
        % (len(compressed), len(head), len(packed))
        + b"\nstream\n" + packed + b"\nendstream",
    )

    # Xref stream (7.5.8) listing the compressed objects (type 2: object stream
    # number, index within it) and itself (type 1: offset, generation), fields
    # 1, 4 and 2 bytes wide. Without its own entry qpdf warns that /Size is not
    # one plus the highest object number.
    xrefstm_offset = len(out)
    rows = {
        n: bytes([2]) + objstm_num.to_bytes(4, "big") + i.to_bytes(2, "big")
        for n, i in index.items()
    }
    rows[xrefstm_num] = bytes([1]) + xrefstm_offset.to_bytes(4, "big") + bytes(2)
    nums = sorted(rows)
    ranges = []
    for n in nums:
        if ranges and ranges[-1][0] + ranges[-1][1] == n:
            ranges[-1][1] += 1
        else:
            ranges.append([n, 1])
    packed = zlib.compress(b"".join(rows[n] for n in nums))
    write_object(
        xrefstm_num,
        0,
        b"<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] /Filter /FlateDecode"
        b" /Length %d >>"
        % (
            new_size,
            b" ".join(b"%d %d" % (a, b) for a, b in ranges),
            len(packed),
        )
        + b"\nstream\n" + packed + b"\nendstream",
    )
    del offsets[xrefstm_num]  # listed in the xref stream, not in the table

    # Classic table (7.5.4) for everything else, in contiguous subsections.
    table_offset = len(out)
    entries = {0: None, **offsets}
    out.extend(b"xref\n")
    keys = sorted(entries)
    start = 0
    while start < len(keys):
        end = start
        while end + 1 < len(keys) and keys[end + 1] == keys[end] + 1:
            end += 1
        out.extend(b"%d %d\n" % (keys[start], end - start + 1))
        for n in keys[start : end + 1]:
            if entries[n] is None:
                out.extend(b"0000000000 65535 f\r\n")
            else:
                offset, gen = entries[n]
                out.extend(b"%010d %05d n\r\n" % (offset, gen))
        start = end + 1

    trailer = b"<< /Size %d /Root %d %d R" % (new_size, *root)
    if info:
        trailer += b" /Info %d %d R" % info
    if "/ID" in pdf.trailer:
        trailer += b" /ID " + pdf.trailer.ID.unparse()
    trailer += b" /XRefStm %d >>" % xrefstm_offset
    out.extend(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % table_offset)
    with open(dst, "wb") as f:
        f.write(out)
    return {
        "output": dst,
        "classic_objects": len(offsets),
        "compressed_objects": len(compressed),
        "xref_stream_offset": xrefstm_offset,
    }


def _utf16_hex(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def make_incremental(src: str, dst: str) -> dict:
    with open(src, "rb") as f:
        data = f.read()
    pdf = pikepdf.open(src)
    _classic_only(pdf, "incremental")
    if "/Info" not in pdf.trailer:
        raise SystemExit("incremental: input has no Info dictionary")
    size = int(pdf.trailer.Size)
    root = pdf.Root.objgen
    info_num, info_gen = pdf.trailer.Info.objgen
    prev = _last_startxref(data)

    out = bytearray(data)
    if not out.endswith(b"\n"):
        out.extend(b"\n")
    # Redefine the Info object under its own number: the later revision wins.
    info_offset = len(out)
    out.extend(
        b"%d %d obj\n<< /Title %s /Producer (kyso test fixture) /CreationDate (%s)"
        b" /ModDate (D:20250102080000+07'00') >>\nendobj\n"
        % (info_num, info_gen, _utf16_hex(TITLE + " (sửa đổi)"), FIXED_DATE.encode())
    )
    table_offset = len(out)
    out.extend(b"xref\n0 1\n0000000000 65535 f\r\n")
    out.extend(b"%d 1\n%010d %05d n\r\n" % (info_num, info_offset, info_gen))
    trailer = b"<< /Size %d /Root %d %d R /Info %d %d R /Prev %d" % (
        size,
        *root,
        info_num,
        info_gen,
        prev,
    )
    if "/ID" in pdf.trailer:
        first = pdf.trailer.ID[0].unparse()
        trailer += b" /ID [" + first + b" <" + b"11" * 16 + b">]"
    trailer += b" >>"
    out.extend(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % table_offset)
    with open(dst, "wb") as f:
        f.write(out)
    return {"output": dst, "prev": prev, "startxref": table_offset}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    base = sub.add_parser("base")
    base.add_argument("out")
    base.add_argument("--pages", type=int, default=3)
    base.add_argument("--text-field", action="store_true")
    for name in ("hybrid", "incremental"):
        p = sub.add_parser(name)
        p.add_argument("src")
        p.add_argument("dst")
    args = parser.parse_args()
    try:
        if args.cmd == "base":
            result = make_base(args.out, args.pages, args.text_field)
        elif args.cmd == "hybrid":
            result = make_hybrid(args.src, args.dst)
        else:
            result = make_incremental(args.src, args.dst)
    except pikepdf.PdfError as e:
        print(f"make_fixture {args.cmd}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
