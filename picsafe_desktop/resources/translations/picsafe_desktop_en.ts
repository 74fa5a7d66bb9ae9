<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
    <context>
        <name />
        <message numerus="yes">
            <source>Importing {done} of %n photo(s)…</source>
            <translation type="unfinished">
                <numerusform>Importing {done} of %n photo…</numerusform>
                <numerusform>Importing {done} of %n photos…</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>App</name>
        <message>
            <source>There is no photo vault on this computer yet.

Create a new encrypted vault in
{path}?</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The photo vault cannot be opened.

{why}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The photo vault was changed outside PicSafe, so it was opened read-only and nothing in it was changed or deleted. Call IT: they run `picsafe-desktop vault verify` and `picsafe-desktop vault repair`.

{problems}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{n} files in the vault folder that its index does not explain were moved to its quarantine folder (nothing was deleted). Tell IT: `picsafe-desktop vault repair` says what they are.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>After the last unexpected stop, some originals must be removed by hand:

{notes}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PicSafe Desktop could not start</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PicSafe Desktop stopped by an unexpected error. Details for IT (without patient data) are in the PicSafe log file (docs/deployment.md, Logs).</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>AuditView</name>
        <message>
            <source>photo stored (encrypted)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photo opened</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photo destroyed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photo released by consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photo details changed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>redacted copy made</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photo exported</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>export failed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>import started</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent recorded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent record read</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>patient list shown</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent record destroyed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent refused</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent withdrawn</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>unfinished consent form discarded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photos deleted from a phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>signed in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>signed out or locked</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>vault created</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>vault recovered</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>today</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>7 days</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>30 days</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log check</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Filter by staff, event, subject or details</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Filter audit entries</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Filter:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Entries shown</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Show events of kind</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Show entries about patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Show entries from</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>any time</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit entries</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Checking the audit log…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log intact — {count} entries verified</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>the check failed without naming a row</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log has been tampered with: {shown}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>all events</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>all patients</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n entry(s)</source>
            <translation>
                <numerusform>%n entry</numerusform>
                <numerusform>%n entries</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>{shown} of %n entry(s)</source>
            <translation>
                <numerusform>{shown} of %n entry</numerusform>
                <numerusform>{shown} of %n entries</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>BodyMap</name>
        <message>
            <source>Body map, front and back</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>BodySiteDialog</name>
        <message>
            <source>Body site</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Click where the photos were taken.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site chosen</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{side} side</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Recent body sites</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site in words</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>not on the map? describe it, e.g. left medial canthus</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;Recent&lt;/b&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;{site}&lt;/b&gt; — SNOMED CT {code}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;{site}&lt;/b&gt;</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ChildSection</name>
        <message>
            <source>The patient is under 18 (date of birth required)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient under 18</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Competence assessment outcome</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Competence assessed by</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Parental involvement</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The person consenting has parental responsibility</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Parental responsibility confirmed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Child's own view</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Needed urgently for the child's care despite an objection</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Urgent despite objection</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Competence (under 16 consenting alone):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Assessed by:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Parents' involvement:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Child's view:</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ComparisonView</name>
        <message>
            <source>Photos side by side</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom out</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Fit</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Fit both</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ConsentAmend</name>
        <message>
            <source>A&amp;mend consent…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Add or remove a use, or correct the body site (a new linked record)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not read the consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not amend the consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent amended; the old record is kept</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ConsentAmendDialog</name>
        <message>
            <source>Amend consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Change what the patient's consent allows, or correct the body site. Both the old and the new record are kept, and the change is audited. Adding a use needs the patient's agreement now, heard by a witness.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Clinical record (always)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Teaching</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Publication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Journal or website</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos may &amp;identify the patient when published</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Witness to the patient's agreement</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>only when a use is added</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Reason for the amendment</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Uses:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Journal or website:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Body site:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Witness:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Reason:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Amend</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Give the reason for the amendment (it goes into the audit log).</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ConsentDialog</name>
        <message>
            <source>MRN</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>patient name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>date of birth</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>who consents</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>substitute's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>relationship</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>uses</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>journal or website</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>how consent was given</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>signature</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>witness name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>staff name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>staff role</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>staff ID</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>body site</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>clinical indication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>identifiable</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent required</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;%n photo(s) waiting for consent.&lt;/b&gt; Complete the form and record consent, or record that consent was refused (the photos are then destroyed).</source>
            <translation>
                <numerusform>&lt;b&gt;%n photo waiting for consent.&lt;/b&gt; Complete the form and record consent, or record that consent was refused (the photos are then destroyed).</numerusform>
                <numerusform>&lt;b&gt;%n photos waiting for consent.&lt;/b&gt; Complete the form and record consent, or record that consent was refused (the photos are then destroyed).</numerusform>
            </translation>
        </message>
        <message>
            <source>Photos waiting for consent, {count}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability, children, interpreter, chaperone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos and further consent details</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos and staff</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>More: identifiable? child? interpreter?</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability of each photo, children, interpreter and wording language, intimate images and chaperone, when consent was given and by whom</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent form</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;This form stays open while photos wait for a decision.&lt;/b&gt; Record consent, or record that consent was refused (the photos are then destroyed). To stop for now, press &lt;b&gt;Lock&lt;/b&gt; (Ctrl+Shift+L): the form is kept for you until you sign in again.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>What is still needed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Reason for refusal, optional</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>reason for refusal (optional)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent refused — destro&amp;y photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent refused, destroy photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Record consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Record consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Locked. Sign in again to continue with this consent.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Problem: {field}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent wording shown to the patient (version {version})</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent wording</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>type or scan the wristband</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Date of birth</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>YYYY-MM-DD</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;MRN (required):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Date of &amp;birth:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Who consents (required)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Who consents</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The &amp;patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>A &amp;substitute (parent, guardian, representative)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Lac&amp;ks capacity: best-interests decision (record only)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Substitute's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Substitute's relationship to the patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Substitut&amp;e's name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Relations&amp;hip:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Uses agreed to (tick each one)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Uses agreed to</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical record (always)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical record, always included</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Teaching: de-identified, within healthcare only</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Teaching, de-identified, within healthcare</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>P&amp;ublication in the journal or website named:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Publication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Journal or website</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>How consent was given (required)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>How consent was given</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Clear signature</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clear signature</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signature of the patient, the substitute, or the clinician recording a best-interests decision:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Witness name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>W&amp;itness (required if verbal):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>e.g. left forearm</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical indication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identi&amp;fiable (face, tattoo or other distinctive feature)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiable image</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body &amp;map…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Pick the body site on a body map</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>B&amp;ody site:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical in&amp;dication:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent obtained by</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff role</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff ID</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff n&amp;ame:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ro&amp;le:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff ID:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Date and time of consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Date and time:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>More…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Wording</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{now:%d %b %Y %H:%M} (set when you record consent)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical indication, required</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Still needed before recording: {fields}.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ready to record consent.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Destroy photos?</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>Consent was refused. The %n photo(s) will be destroyed permanently. This cannot be undone.

Destroy the photos?</source>
            <translation>
                <numerusform>Consent was refused. The %n photo will be destroyed permanently. This cannot be undone.

Destroy the photos?</numerusform>
                <numerusform>Consent was refused. The %n photos will be destroyed permanently. This cannot be undone.

Destroy the photos?</numerusform>
            </translation>
        </message>
        <message>
            <source>identifiability</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>identifiable publication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>under 18</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>child details</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>competence assessment</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>assessed by</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>competence outcome</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>parental involvement</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>child's view</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>urgent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>parental responsibility</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>interpreter's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>interpreted language</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>kind of interpreter</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>wording language</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>chaperone preference</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>chaperone's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>chaperone's role</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>intimate secondary use</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>time consent was obtained</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>photographer</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>signed by</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ConsentSections</name>
        <message>
            <source>Not answered yet</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiable (face, tattoo, distinctive feature)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not identifiable</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo {number}: {answer}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability of photo {number}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability of each photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Children and young people</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not assessed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Competent (Gillick)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not competent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not recorded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Agrees (assents)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Objects</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not able to say (too young or unwell)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreter and language</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No interpreter</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Professional, in person</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Telephone or video service</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Family member or friend</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Intimate images</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Wants a chaperone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Declined a chaperone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No preference</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>When and by whom</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Follows from who consents</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The substitute</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The clinician (verbal consent or best interests)</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ExportDialog</name>
        <message>
            <source>Export photos — {patient}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Export photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;Patient:&lt;/b&gt; {patient}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos to export</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Photos (untick any to leave out):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Send to</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Use of the photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Use:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Export progress</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Export</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&amp;Export %n photo(s)</source>
            <translation>
                <numerusform>&amp;Export %n photo</numerusform>
                <numerusform>&amp;Export %n photos</numerusform>
            </translation>
        </message>
        <message>
            <source>File to write</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Browse…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;File:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Password (optional):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Recipient public key</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>age1… or ssh-ed25519 … (instead of a passphrase)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Or &amp;recipient key:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Passphrase:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Package passphrase</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PDF password</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Destination: {destination}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Export to</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PDF (*.pdf)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>age package (*.age)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Choose where to send the photos.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Tick at least one photo to export.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Choose the file to write.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Give a passphrase of at least {n} characters, or the recipient's public key.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;span style='color:{colour}'&gt;{problem}&lt;/span&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;span style='color:{colour}'&gt;&lt;b&gt;Not exported.&lt;/b&gt; {exc}&lt;/span&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Exporting…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PDF report (to file in the record)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>FHIR — send to the electronic health record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>DICOM — send to the PACS</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Encrypted package (age) for a colleague</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Clinical record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Teaching (identifiers removed)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Publication (identifiers removed)</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;Done.&lt;/b&gt; %n photo(s) exported to {destination}{detail}. Report id {report_id}. The export is recorded in the audit log.</source>
            <translation>
                <numerusform>&lt;b&gt;Done.&lt;/b&gt; %n photo exported to {destination}{detail}. Report id {report_id}. The export is recorded in the audit log.</numerusform>
                <numerusform>&lt;b&gt;Done.&lt;/b&gt; %n photos exported to {destination}{detail}. Report id {report_id}. The export is recorded in the audit log.</numerusform>
            </translation>
        </message>
        <message>
            <source>&lt;b&gt;Queued.&lt;/b&gt; {message}</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>FirstStaffDialog</name>
        <message>
            <source>{APP_NAME} — who looks after this vault?</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;h3&gt;Enrol yourself as the first staff member&lt;/h3&gt;&lt;p&gt;Everyone signs in to PicSafe with a staff ID and a PIN, so every action is recorded under a checked name. You are enrolled now; you (as IT admin) enrol others later with &lt;code&gt;picsafe-desktop staff add&lt;/code&gt;.&lt;/p&gt;&lt;p&gt;If you choose &lt;i&gt;Later&lt;/i&gt;, nobody can sign in until IT runs that command.&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff ID</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Full name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Job title</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>optional, e.g. Ward IT lead, Staff nurse</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PIN</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PIN again</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>4-12 digits</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff &amp;ID:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Full &amp;name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Job &amp;title:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Roles:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;PIN:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PIN &amp;again:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Enrol</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Later</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Nobody can sign in until IT enrols staff</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The two PINs differ: type the same PIN twice.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Tick at least one role.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>IdentifiabilitySection</name>
        <message>
            <source>Answer for each photo whether it could identify the patient. Teaching and publication exports wait until every photo is answered.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability of all photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>All photos:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability of each photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Arrow keys choose a photo; F2 or Space changes its answer.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The patient agrees to publication of photos that identify them</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiable publication agreed</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ImportMixin</name>
        <message>
            <source>Import photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos (*.jpg *.jpeg *.heic *.heif *.hif *.png *.webp);;All files (*)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Importing {v0} item(s)…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cancelling…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import failed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Looking for cameras and phones on USB…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not look for USB devices</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No camera or phone was found on USB.

Connect it with its cable, unlock it and, on the phone, allow access to photos ("Trust this computer" or "File transfer / PTP"). If the desktop opened the phone in a file manager, close that window first: it holds the phone.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import photos from:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Importing from {label}…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Import photos from it</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import photos from the connected device</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Delete the imported photos from the phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not now</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;%n photo(s) from {device} are safely in the vault&lt;/b&gt; and still on the phone.</source>
            <translation>
                <numerusform>&lt;b&gt;%n photo from {device} are safely in the vault&lt;/b&gt; and still on the phone.</numerusform>
                <numerusform>&lt;b&gt;%n photos from {device} are safely in the vault&lt;/b&gt; and still on the phone.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>&amp;Delete these %n photo(s) from the phone</source>
            <translation>
                <numerusform>&amp;Delete these %n photo from the phone</numerusform>
                <numerusform>&amp;Delete these %n photos from the phone</numerusform>
            </translation>
        </message>
        <message>
            <source>Keep them on the phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>A phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>A camera card or phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>They are deleted from it once safely stored.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>They stay on it; once they are safely stored you can delete them from here.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;{what} with photos is connected&lt;/b&gt; ({device}). Import its photos into the vault? {after}</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;All %n photo(s) on {device} are already in the vault.&lt;/b&gt; There is nothing new to import.</source>
            <translation>
                <numerusform>&lt;b&gt;All %n photo on {device} are already in the vault.&lt;/b&gt; There is nothing new to import.</numerusform>
                <numerusform>&lt;b&gt;All %n photos on {device} are already in the vault.&lt;/b&gt; There is nothing new to import.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;{what} with %n new photo(s) is connected&lt;/b&gt; ({device}). Import them into the vault? {after}</source>
            <translation>
                <numerusform>&lt;b&gt;{what} with %n new photo is connected&lt;/b&gt; ({device}). Import them into the vault? {after}</numerusform>
                <numerusform>&lt;b&gt;{what} with %n new photos is connected&lt;/b&gt; ({device}). Import them into the vault? {after}</numerusform>
            </translation>
        </message>
        <message>
            <source>Delete from the phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not delete the photos from the phone</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{v0} item(s) in the drop folder {folder} were not imported.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Files that could not be imported are still where they were; nothing was lost.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Some files could not be imported: sign in to see which and what to do.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import finished with problems</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import from the drop folder {folder} failed; the photos were left there.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>ImportProgress</name>
        <message>
            <source>Import progress</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cancel</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cancel import</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>IntakeDialog</name>
        <message>
            <source>Sort the photos by patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos to file — {label}{by}{more}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Suggested sets, one per patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos waiting for consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Set {number}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo in set {number}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site of the selected photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>When a set holds photos of different body sites (a wound and a lesion), select the photos of one site and pick it on the body map. Photos without a site of their own take the one on the consent form.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Leave the rest waiting</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Close this for now: the photos stay encrypted and unusable. "Photos waiting" at the bottom of the window opens them again; they also come back at the next sign-in.</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>Set {number}: {when} · %n photo(s)</source>
            <translation>
                <numerusform>Set {number}: {when} · %n photo</numerusform>
                <numerusform>Set {number}: {when} · %n photos</numerusform>
            </translation>
        </message>
        <message>
            <source>MRN {mrn} (wristband)</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>Body &amp;site for %n photo(s)…</source>
            <translation>
                <numerusform>Body &amp;site for %n photo…</numerusform>
                <numerusform>Body &amp;site for %n photos…</numerusform>
            </translation>
        </message>
        <message>
            <source>Body &amp;site…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;Suggested sets&lt;/b&gt; (by time taken)</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>&lt;b&gt;%n photo(s) to file&lt;/b&gt;, in {sets} (a new set starts after a 10-minute gap). Select one patient's photos — a set, or click, Shift+click, Ctrl+A — and record that patient's consent; then carry on with the next patient.</source>
            <translation>
                <numerusform>&lt;b&gt;%n photo to file&lt;/b&gt;, in {sets} (a new set starts after a 10-minute gap). Select one patient's photos — a set, or click, Shift+click, Ctrl+A — and record that patient's consent; then carry on with the next patient.</numerusform>
                <numerusform>&lt;b&gt;%n photos to file&lt;/b&gt;, in {sets} (a new set starts after a 10-minute gap). Select one patient's photos — a set, or click, Shift+click, Ctrl+A — and record that patient's consent; then carry on with the next patient.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n suggested set(s)</source>
            <translation>
                <numerusform>%n suggested set</numerusform>
                <numerusform>%n suggested sets</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>&amp;Record consent for %n photo(s)…</source>
            <translation>
                <numerusform>&amp;Record consent for %n photo…</numerusform>
                <numerusform>&amp;Record consent for %n photos…</numerusform>
            </translation>
        </message>
        <message>
            <source>&amp;Record consent…</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>Not clinical / not this patient — &amp;destroy %n photo(s)…</source>
            <translation>
                <numerusform>Not clinical / not this patient — &amp;destroy %n photo…</numerusform>
                <numerusform>Not clinical / not this patient — &amp;destroy %n photos…</numerusform>
            </translation>
        </message>
        <message>
            <source>Not clinical / not this patient — &amp;destroy…</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>InterpreterSection</name>
        <message>
            <source>Language of the consent wording</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreter</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreter's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>name, or ID number for a telephone service</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreted language</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>e.g. Polish</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Wording language:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreter:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Interpreter's name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Language interpreted:</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>IntimateSection</name>
        <message>
            <source>Intimate: breasts, genitalia, perineum or anus</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Intimate images</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient's chaperone preference</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Chaperone's name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Chaperone's role</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>e.g. staff nurse</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The patient expressly agrees to teaching or publication of these intimate photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Intimate photos for teaching or publication agreed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Chaperone preference:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Chaperone's name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Chaperone's role:</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>KeyringBanner</name>
        <message>
            <source>&lt;b&gt;The computer's keyring has stopped answering.&lt;/b&gt; Photos are still imported and kept encrypted in the vault, but PicSafe cannot save the vault's latest state in the keyring, and will not start again until the keyring answers. Unlock the keyring, or log out and in again; if this message stays, call IT. It goes away by itself once the keyring answers.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Keyring problem</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>LockScreen</name>
        <message>
            <source>Sign in with your hospital user name and password.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign in with your staff ID and PIN.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign in to see and import clinical photos.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>names not checked</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;h2&gt;PicSafe Desktop is locked&lt;/h2&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{intro} Every action is recorded under your name.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Your name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>User name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff ID</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Role</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>e.g. Staff nurse, Registrar</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Password</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PIN</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Staff &amp;ID:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Role:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;User name:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Password:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;PIN:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;b&gt;Names not checked&lt;/b&gt; on this PC: anyone can type any name, so the audit log cannot say who acted. For a single-user evaluation PC only; on a ward, IT enrols staff PINs or connects the hospital directory (security guide).</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Sign in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>could not check who may sign in (%s)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Checking…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Enter your name to sign in.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Enter your user name to sign in.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Enter your staff ID to sign in.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>&lt;h2&gt;No photos yet&lt;/h2&gt;&lt;p&gt;To bring clinical photos in:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;connect the phone with its USB cable and unlock it, or&lt;/li&gt;&lt;li&gt;drag photos from a folder onto this window, or&lt;/li&gt;&lt;li&gt;press &lt;b&gt;Import photos&lt;/b&gt; in the toolbar.&lt;/li&gt;&lt;/ul&gt;&lt;p&gt;Each photo is stripped of hidden data (location, phone serial, dates) and encrypted. You then sort the photos by patient and record each patient's consent. Photos on a phone stay there until you choose to delete them from here.&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>not recorded by the camera</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ready</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>How to get photos in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Search by MRN or name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Search patients by MRN or name</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patients</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Select a photo to see its details.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo details</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Main</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Import photos…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import photos from files or folders</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Import from &amp;USB camera or phone…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Phones and cameras connected by USB (PTP/MTP)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Open photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Return</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Delete photos…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Audit log</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Export…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Send the patient's photos into the record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Redact…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Black out or blur parts of the photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Withdraw consent…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log for this &amp;patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Timeline and comparison…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The patient's photos by body site and date; compare two side by side</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Lock</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Lock now: hide all patient data until someone signs in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>S&amp;witch user</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign out and let someone else sign in (their actions go under their name)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;About {APP_NAME}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in as</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;File</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>P&amp;atient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Help</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in: &lt;b&gt;{name}&lt;/b&gt; · {role}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in with the hospital directory</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in with an enrolled PIN</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in with a name that was not checked</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed in as {name}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed out. The next person signs in here.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not record that the consent draft was discarded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Locked</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;h2&gt;Signed in as {name} ({role})&lt;/h2&gt;&lt;p&gt;Your role does not show patients or photos. {what}&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>You can import photos and record consent.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Vault checks and the audit log are in the menus.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not list patients</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not list photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The original photo was destroyed.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Taken {moment:%d %b %Y %H:%M}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Redacted copy · {caption}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>REDACTED COPY</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not read photo details</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Captured</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Size</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{width} × {height} px</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Imported</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n area(s) hidden</source>
            <translation>
                <numerusform>%n area hidden</numerusform>
                <numerusform>%n areas hidden</numerusform>
            </translation>
        </message>
        <message>
            <source>Redacted copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;p&gt;&lt;a href='item:{item}'&gt;Show the original photo&lt;/a&gt;&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>recorded {when:%d %b %Y %H:%M} by {who}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Uses allowed</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Indication</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not check for photos waiting for consent</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n photo(s) waiting for consent cannot be read; they were left as they are. Call IT before anything else.</source>
            <translation>
                <numerusform>%n photo waiting for consent cannot be read; they were left as they are. Call IT before anything else.</numerusform>
                <numerusform>%n photos waiting for consent cannot be read; they were left as they are. Call IT before anything else.</numerusform>
            </translation>
        </message>
        <message>
            <source>The other photos are not affected.</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n photo(s) still wait for consent: open them from the bottom right, or at the next sign-in.</source>
            <translation>
                <numerusform>%n photo still wait for consent: open them from the bottom right, or at the next sign-in.</numerusform>
                <numerusform>%n photos still wait for consent: open them from the bottom right, or at the next sign-in.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Consent — %n photo(s) imported by {who}</source>
            <translation>
                <numerusform>Consent — %n photo imported by {who}</numerusform>
                <numerusform>Consent — %n photos imported by {who}</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Consent — %n photo(s)</source>
            <translation>
                <numerusform>Consent — %n photo</numerusform>
                <numerusform>Consent — %n photos</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Consent recorded for %n photo(s)</source>
            <translation>
                <numerusform>Consent recorded for %n photo</numerusform>
                <numerusform>Consent recorded for %n photos</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Consent refused: %n photo(s) destroyed</source>
            <translation>
                <numerusform>Consent refused: %n photo destroyed</numerusform>
                <numerusform>Consent refused: %n photos destroyed</numerusform>
            </translation>
        </message>
        <message>
            <source>Could not save the consent decision</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Destroy photos</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>Destroy %n photo(s) that are not clinical or not of this patient? They are erased from the vault for good; no copy remains.</source>
            <translation>
                <numerusform>Destroy %n photo that are not clinical or not of this patient? They are erased from the vault for good; no copy remains.</numerusform>
                <numerusform>Destroy %n photos that are not clinical or not of this patient? They are erased from the vault for good; no copy remains.</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n photo(s) destroyed</source>
            <translation>
                <numerusform>%n photo destroyed</numerusform>
                <numerusform>%n photos destroyed</numerusform>
            </translation>
        </message>
        <message>
            <source>Could not destroy the photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>About {APP_NAME}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>%s: %s</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>OutboxSender</name>
        <message>
            <source>outbox pass failed (%s)</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>PatientCheck</name>
        <message>
            <source>Type or scan the MRN, then look it up.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Look up in the hospital record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>I confirmed the patient's name and date of birth with them (or their wristband)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Record without a check (offline): flagged NOT CHECKED against the record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Check against the hospital record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Look up the MRN in the hospital record</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Name and date of birth confirmed with the patient</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Record without a check, flagged not checked</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Looking up MRN {mrn}…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The MRN differs from the wristband's ({wristband}): check the wristband; do not record for a different patient.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The hospital's systems name different people for this MRN: do not record; ask the ward clerk to check the patient's record.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The hospital record names {name} for this MRN, not the name given: check the wristband and the patient.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The hospital record gives another date of birth ({born}) for this MRN: check the wristband and the patient.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Two identifiers are needed: the patient's name and date of birth.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Confirm the patient's name and date of birth with the patient.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Wait for the hospital record, or tick 'Record without a check'.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Look the MRN up in the hospital record, or tick 'Record without a check'.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Order {accession}: {procedure}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Hospital record ({source}): {name}, born {born}{sex}{extra}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>not recorded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Looking up MRN {asked}…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No patient with MRN {mrn} in the hospital record: check the MRN. Recording is possible only flagged NOT CHECKED.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The hospital record could not be asked ({failed}). Recording is possible only flagged NOT CHECKED.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>{status}
NOT CHECKED against the record.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>PhotoActionsMixin</name>
        <message>
            <source>Intimate image</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Why are you viewing this intimate image? (recorded in the audit log)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not open the photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Delete photos</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n photo(s) destroyed</source>
            <translation>
                <numerusform>%n photo destroyed</numerusform>
                <numerusform>%n photos destroyed</numerusform>
            </translation>
        </message>
        <message>
            <source>Could not delete</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log — {patient}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Audit log</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not read the audit log</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not open the timeline</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Compare — {who}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Redacted copy saved (original destroyed)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Redacted copy saved</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not redact the photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not withdraw</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifia&amp;bility…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>A clinician's answer: does this photo identify the patient? (audited)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient's &amp;copy of the consent…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Save the patient's PDF copy of this consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source> (redacted version)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source> (confirmed by {who})</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiability</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Intimate</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>yes: a reason is asked on every view</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Warning</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>taken before the recorded bedside consent time</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent obtained</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Withdrawn</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Review consent on</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Not identifiable</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Identifiable</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Having looked at the photo, it is:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Why? (recorded in the audit log)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo marked {answer}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not record the answer</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient's copy of the consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>consent-copy.pdf</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PDF (*.pdf)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Saved {out}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not save the patient's copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Withdraw consent</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>What does the patient withdraw?

Teaching and publication only: the photos stay for the clinical record.
Everything: every photo of this consent is destroyed; copies already in the medical record follow the site's policy. Copies already exported are listed afterwards so they can be followed up.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Teaching and &amp;publication only</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Everything (destroy photos)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent withdrawn; its photos were destroyed.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Teaching and publication withdrawn; the photos stay for the clinical record.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent withdrawn</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>PhotoViewer</name>
        <message>
            <source>Photo viewer</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Drag or use the arrow keys to move around the photo; plus and minus zoom.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom out</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom out (-)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom in</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom in (+)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Fit</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Fit to window</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Fit to window (Ctrl+0)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Actual size</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Copy photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Copy the photo (Ctrl+C); the clipboard is cleared after {clipboard_clear_seconds} seconds</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>‹ &amp;Previous</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Previous photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Previous (Page Up)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Next ›</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Next photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Next (Page Down)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient and photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Zoom level</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Viewer message</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo — {context}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Opening the photo…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>This photo cannot be displayed.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>RecoverDialog</name>
        <message>
            <source>{APP_NAME} — recover vault key</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;p&gt;{message}&lt;/p&gt;&lt;p&gt;Enter the recovery code from the vault's recovery sheet to put the key back into this computer's keyring.&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Recovery code</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>RecoveryCodeDialog</name>
        <message>
            <source>{APP_NAME} — save your recovery code</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;h3&gt;Your encrypted vault is ready&lt;/h3&gt;&lt;p&gt;Its key is kept in this computer's keyring. If the keyring is ever lost, this recovery code is the only way to open the vault again. It is shown &lt;b&gt;only now&lt;/b&gt;: print the recovery sheet or write the code down, and lock it away.&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&lt;p style='font-size:18pt; font-family:monospace'&gt;{code}&lt;/p&gt;</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Recovery code</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Print recovery sheet…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Save recovery sheet as PDF…</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>I have printed or written down the recovery code</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Continue</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The recovery sheet unlocks every photo in this vault. Anyone with the file and a copy of the vault folder can read them all.

Save it only to a place you control (for example a USB stick that is then locked away), print it, and delete the file.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Save recovery sheet (it unlocks every photo)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PDF (*.pdf)</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Could not save {path}: {strerror}.

Choose another folder, or write the code down by hand.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Saved {path}. Print it, then delete the file: the sheet is as secret as the vault key.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>RedactionDialog</name>
        <message>
            <source>Black box</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Blur</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Redact photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo to redact</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Drag on the photo to draw a box. Arrow keys move the selected box, Shift with arrow keys resizes it, Delete removes it.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cover with</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>How new boxes, and the selected box, cover the photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Areas to cover</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ticked areas are covered. Suggested faces are not covered until you tick them.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Add box</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Add box</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Add a box in the middle of the photo, to move with the keys</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Remove selected</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Remove selected box</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Suggest &amp;faces</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Suggest faces</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Look for faces; you confirm each suggestion yourself</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Drag on the photo to cover an area, or press Add box.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Redaction status</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Keep the original and save a redacted copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Re&amp;place the original</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Keep the original and save a redacted copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Replace the original</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The unredacted original will be destroyed and cannot be recovered.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Save redacted version</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Save redacted version</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cancel</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cover &amp;with:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Areas to cover (ticked = covered):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>When saving</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Looking for faces…</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n possible face(s) marked with dashed boxes. Tick or click each one that should be covered. Check the photo yourself: faces can be missed.</source>
            <translation>
                <numerusform>%n possible face marked with dashed boxes. Tick or click each one that should be covered. Check the photo yourself: faces can be missed.</numerusform>
                <numerusform>%n possible faces marked with dashed boxes. Tick or click each one that should be covered. Check the photo yourself: faces can be missed.</numerusform>
            </translation>
        </message>
        <message>
            <source>No faces were found. Check the photo yourself: faces can be missed.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Face suggestions are not available: {exc}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Suggested face</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Box</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source> (not confirmed)</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>Section</name>
        <message>
            <source>Problems: {title}</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Settings</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Settings pages</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Your preferences</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Site configuration</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Save preferences</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Cancel</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source> px</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Thumbnail size</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ask before &amp;deleting photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Ask before deleting photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Thumbnail size:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>These choices are stored for your user account on this computer. No patient information is kept with them.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Read from {source}. Set by IT; it cannot be changed here.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No site configuration file was found, so the built-in defaults are in use. IT can provide one at {path}.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Site configuration file</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Site configuration values</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Test &amp;PACS connection</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Test PACS connection</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>PACS connection result</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The connection test is not available here.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>No PACS is configured (pacs.host is not set).</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Testing the connection to {host}:{port}…</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>SignaturePad</name>
        <message>
            <source>Signature pad</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign here with a mouse, a pen or a finger.</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Sign above the line</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>TimelineDialog</name>
        <message>
            <source>Timeline — {patient}</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Patient timeline</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Body site and date</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photo</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photos by body site and date</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>date not recorded</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>redacted copy</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Compare side by side</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Tick two photos of the same site to compare them.</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>WaitingEntry</name>
        <message>
            <source>Open the photos waiting for consent</source>
            <translation type="unfinished" />
        </message>
        <message numerus="yes">
            <source>%n photo(s) waiting for consent — open</source>
            <translation>
                <numerusform>%n photo waiting for consent — open</numerusform>
                <numerusform>%n photos waiting for consent — open</numerusform>
            </translation>
        </message>
        <message>
            <source>Imported by {who}</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>WhenWhoSection</name>
        <message>
            <source>Time consent was obtained</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>YYYY-MM-DD HH:MM</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>&amp;Now</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent obtained now</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photographer</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>who took the photos</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed by</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Consent obtained at (bedside):</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Photographer:</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>Signed by:</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>WindowsSessionListener</name>
        <message>
            <source>Windows session notifications unavailable; idle lock still applies</source>
            <translation type="unfinished" />
        </message>
    </context>
    <context>
        <name>WristbandScanMixin</name>
        <message numerus="yes">
            <source>Looking for a wristband barcode among the %n photo(s)… you can start meanwhile.</source>
            <translation>
                <numerusform>Looking for a wristband barcode among the %n photo… you can start meanwhile.</numerusform>
                <numerusform>Looking for a wristband barcode among the %n photos… you can start meanwhile.</numerusform>
            </translation>
        </message>
        <message>
            <source>Could not destroy a photo of a wristband</source>
            <translation type="unfinished" />
        </message>
        <message>
            <source>The photos could not be checked for a wristband: type the MRN in the form.</source>
            <translation type="unfinished" />
        </message>
    </context>
</TS>
