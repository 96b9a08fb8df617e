// Get a token from portvakt with @vtfk/maskinporten-auth, a Maskinporten client for enterprise certificates.
// Input (environment): TOKEN_URL, AUDIENCE, CLIENT_ID, SCOPE, PFX_FILE (a .p12) and PFX_PASSWORD_FILE.
// Output: the token response as JSON on stdout; on a refusal the error body on stderr and exit code 1.
'use strict'
const fs = require('fs')
const maskinportenToken = require('@vtfk/maskinporten-auth')

const options = {
  url: process.env.TOKEN_URL,
  audience: process.env.AUDIENCE,
  issuer: process.env.CLIENT_ID,
  scope: process.env.SCOPE,
  pfxcert: fs.readFileSync(process.env.PFX_FILE).toString('base64'),
  privateKeyPassphrase: fs.readFileSync(process.env.PFX_PASSWORD_FILE, 'utf8').split('\n')[0]
}

maskinportenToken(options).then(
  token => { process.stdout.write(JSON.stringify(token) + '\n') },
  error => {
    const body = error.response ? error.response.data : String(error)
    process.stderr.write(`token request failed: ${JSON.stringify(body)}\n`)
    process.exit(1)
  }
)
