"""The offline questionnaire (build: the download; upload: reading and applying a file): an XLSX to fill on a closed network, and its safe upload.

The workbook has a visible sheet (cover rows naming the body, year, guideline and version, then
one row per scored measure: locked label columns, unlocked answer columns with drop-downs) and a
very hidden metadata sheet: the assessment it was made from, each answer's version and the value
of every answer cell as written, signed with an HMAC of SECRET_KEY. On upload the signature, the
body, year and guideline are checked, and only the cells the user edited count as changes
(edited = differs from the signed original), so a file never reverts what others saved since.
An edited cell whose answer changed on the server after the file was made is a conflict that
the user must confirm measure by measure. Changes are applied all-or-nothing.
"""
