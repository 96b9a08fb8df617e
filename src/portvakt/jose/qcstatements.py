"""Read and write the QCStatements certificate extension (RFC 3739 §3.2.6, ETSI EN 319 412-5 §4.2).

Only what a grant needs: is the certificate an e-seal (QcType id-etsi-qct-eseal), and is it qualified
(QcCompliance present)? Anything this module cannot read counts as "no e-seal"; it never raises.
"""

from __future__ import annotations

from typing import Literal

from pyasn1.codec.der.decoder import decode as der_decode
from pyasn1.codec.der.encoder import encode as der_encode
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pyasn1_modules import rfc3739

__all__ = ["ID_ETSI_QCS_QC_COMPLIANCE", "ID_ETSI_QCS_QC_TYPE", "ID_ETSI_QCT_ESEAL", "ID_PE_QC_STATEMENTS",
           "EsealKind", "eseal_kind", "eseal_statements"]

#: id-pe-qcStatements (RFC 3739 §3.2.6).
ID_PE_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"
#: id-etsi-qcs-QcCompliance: a qualified certificate under eIDAS (ETSI EN 319 412-5 §4.2.1).
ID_ETSI_QCS_QC_COMPLIANCE = "0.4.0.1862.1.1"
#: id-etsi-qcs-QcType (ETSI EN 319 412-5 §4.2.3) and its value id-etsi-qct-eseal.
ID_ETSI_QCS_QC_TYPE = "0.4.0.1862.1.6"
ID_ETSI_QCT_ESEAL = "0.4.0.1862.1.6.2"

EsealKind = Literal["qualified", "non-qualified"]

#: Whatever pyasn1 may raise on hostile input: decoding a certificate extension must never crash a request.
_DECODE_ERRORS = (PyAsn1Error, ValueError, TypeError, LookupError, AttributeError, RecursionError)


class QcType(univ.SequenceOf):  # type: ignore[misc]
    """QcType ::= SEQUENCE OF OBJECT IDENTIFIER (ETSI EN 319 412-5 §4.2.3)."""

    componentType = univ.ObjectIdentifier()  # noqa: N815 (the name pyasn1 reads)


def eseal_kind(extension_value: bytes) -> EsealKind | None:
    """The e-seal kind of a QCStatements extension value (ETSI EN 319 412-5 §4.2.1, §4.2.3), None if none."""
    try:
        statements, rest = der_decode(extension_value, asn1Spec=rfc3739.QCStatements())
        if rest:
            return None
        compliant, eseal = False, False
        for statement in statements:
            statement_id = str(statement["statementId"])
            if statement_id == ID_ETSI_QCS_QC_COMPLIANCE:
                compliant = True
            elif statement_id == ID_ETSI_QCS_QC_TYPE and statement["statementInfo"].isValue:
                eseal = eseal or _names_eseal(bytes(statement["statementInfo"]))
    except _DECODE_ERRORS:
        return None
    if not eseal:
        return None
    return "qualified" if compliant else "non-qualified"


def _names_eseal(statement_info: bytes) -> bool:
    """True if a QcType statementInfo lists id-etsi-qct-eseal (ETSI EN 319 412-5 §4.2.3)."""
    types, rest = der_decode(statement_info, asn1Spec=QcType())
    return not rest and any(str(oid) == ID_ETSI_QCT_ESEAL for oid in types)


def eseal_statements(*, qualified: bool) -> bytes:
    """DER of a QCStatements value for an e-seal: QcCompliance if qualified, then QcType eseal (ETSI EN 319 412-5)."""
    statements = rfc3739.QCStatements()
    if qualified:
        compliance = rfc3739.QCStatement()
        compliance["statementId"] = univ.ObjectIdentifier(ID_ETSI_QCS_QC_COMPLIANCE)
        statements.append(compliance)
    qc_type = QcType()
    qc_type.append(univ.ObjectIdentifier(ID_ETSI_QCT_ESEAL))
    typed = rfc3739.QCStatement()
    typed["statementId"] = univ.ObjectIdentifier(ID_ETSI_QCS_QC_TYPE)
    typed["statementInfo"] = univ.Any(der_encode(qc_type))
    statements.append(typed)
    encoded: bytes = der_encode(statements)
    return encoded
