// A VCL file with a mistake, for the vcl-use scenario: one hook's name is misspelled, so
// `lab cache vcl use` refuses the whole file, names this file and the line, and the VCL in use stays.
export default {
  recieve(req) {
    if (req.url.startsWith('/static/')) return { action: 'hash' };
  },
};
