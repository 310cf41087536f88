// The report's belief graph and matrix, drawn from the data in #belief-data (simstage/report/belief_view.py).
(function(){
  var D=JSON.parse(document.getElementById('belief-data').textContent);
  var NS='http://www.w3.org/2000/svg', NODE_H=22, TRUE='#15803d', FALSE='#dc2626';
  var svg=document.getElementById('beliefs'), info=document.getElementById('edgeinfo');
  var matrix=document.getElementById('matrix'), question=document.getElementById('question');
  var slider=document.getElementById('turn'), turnlabel=document.getElementById('turnlabel');
  var pick={object:document.getElementById('object'),holder:document.getElementById('holder'),order:document.getElementById('order')};
  var rows=[].slice.call(document.querySelectorAll('.row'));
  var shown=D.turns.length-1;
  function el(tag,attrs,parent){var e=document.createElementNS(NS,tag);for(var k in attrs)e.setAttribute(k,attrs[k]);if(parent)parent.appendChild(e);return e;}
  function cell(k,obj,row){var a=D.cells[k][obj];return a.slice(row*6,row*6+6);}
  function cname(i){return i<0?null:D.containers[i][0];}
  function words(row){var r=D.rows[row];return [r[0]].concat(r[1]).map(function(n){return n+' thinks';}).join(' ');}
  function describe(row,obj,c){
    var lines=[words(row)+' the '+D.objects[obj]+': '+(cname(c[0])||'no idea (knows only where '+(D.plural[obj]?'they are':'it is')+' not)')];
    if(c[1]<0) return lines.concat(['no belief']).join('\n');
    var real=D.reality[shown][obj];
    lines.push((c[0]<0?'':(c[0]===real?'true':'FALSE')+' · ')+'source '+D.sources[c[1]]+' · formed turn '+c[2]+(c[3]>=0?' · lie by '+D.cast[c[3]]:''));
    if(c[4]>=0) lines.push('model answered '+cname(c[4])+(c[4]===c[0]?' (agrees)':' (tracker: '+(cname(c[0])||'none')+')'));
    if(c[5]) lines.push('changed this turn');
    return lines.join('\n');
  }
  function tell(text){info.textContent=text;}
  function box(g,x,y,w,label,cls,title){
    var n=el('g',{'class':'node '+cls},g);
    el('rect',{x:x,y:y,width:w,height:NODE_H,rx:cls.indexOf('mind')>=0?11:3,'class':'shape'},n);
    var t=el('text',{x:x+w/2,y:y+15,'text-anchor':'middle','class':'label'},n); t.textContent=label;
    if(title){el('title',{},n).textContent=title;}
    return n;
  }
  function drawGraph(){
    var obj=+pick.object.value, holder=pick.holder.value, order=+pick.order.value;
    var view=D.views[holder+'|'+order], k=shown, real=D.reality[k][obj];
    while(svg.firstChild) svg.removeChild(svg.firstChild);
    if(view.too_many){
      // Too many minds for a legible graph (simstage/report/belief_view.py MAX_DRAWN): the matrix lists them.
      svg.setAttribute('width',640); svg.setAttribute('height',40); svg.setAttribute('viewBox','0 0 640 40');
      el('text',{x:12,y:24,'class':'label room'},svg).textContent=view.too_many+' minds: too many to draw; pick one holder (the matrix lists them all).';
      question.textContent='The '+D.objects[obj]+' at turn '+D.turns[k]+'.';
      return;
    }
    svg.setAttribute('width',view.width); svg.setAttribute('height',view.height);
    svg.setAttribute('viewBox','0 0 '+view.width+' '+view.height);
    var defs=el('defs',{},svg);
    [['t',TRUE],['f',FALSE]].forEach(function(m){
      var mk=el('marker',{id:'arrow-'+m[0],viewBox:'0 0 10 10',refX:9,refY:5,markerWidth:7,markerHeight:7,orient:'auto'},defs);
      el('path',{d:'M0,0 L10,5 L0,10 z',fill:m[1]},mk);
    });
    var links=el('g',{'class':'links'},svg), edges=el('g',{'class':'edges'},svg), nodes=el('g',{'class':'nodes'},svg);
    var at={}; view.minds.forEach(function(m){at[m[0]]=m;});
    view.links.forEach(function(l){
      var a=at[l[0]], b=at[l[1]], x1=a[1]+a[3], y1=a[2]+NODE_H/2, x2=b[1], y2=b[2]+NODE_H/2, mx=(x1+x2)/2;
      el('path',{d:'M'+x1+','+y1+' C'+mx+','+y1+' '+mx+','+y2+' '+x2+','+y2,'class':'link'},links);
    });
    var used={};
    view.minds.forEach(function(m){
      var row=m[0], r=D.rows[row], c=cell(k,obj,row), leaf=r[1].length===order-1;
      var name=r[1].length?r[1][r[1].length-1]:r[0], label=name;
      if(leaf&&c[4]>=0) label+=' · model: '+cname(c[4])+(c[4]===c[0]?' ✓':' ✗');
      var cls='mind'+(leaf?' leaf':'')+(leaf&&c[4]>=0&&c[4]!==c[0]?' disagrees':'');
      var n=box(nodes,m[1],m[2],m[3],label,cls,r[2]);
      n.addEventListener('click',function(){tell(describe(row,obj,c));});
      if(!leaf||c[0]<0) return;
      used[c[0]]=true;
      var b=view.boxes[c[0]], x1=m[1]+m[3], y1=m[2]+NODE_H/2, x2=b[0]-2, y2=b[1]+NODE_H/2, mx=(x1+x2)/2;
      var d='M'+x1+','+y1+' C'+mx+','+y1+' '+mx+','+y2+' '+x2+','+y2, ok=c[0]===real;
      var g=el('g',{'class':'belief '+(ok?'true':'false')+(c[3]>=0?' lie':'')+(c[5]?' changed':''),'data-row':row},edges);
      el('title',{},g).textContent=describe(row,obj,c);
      el('path',{d:d,stroke:ok?TRUE:FALSE,'marker-end':'url(#arrow-'+(ok?'t':'f')+')','class':'wire'},g);
      el('path',{d:d,'class':'hit'},g);
      g.addEventListener('mouseenter',function(){tell(describe(row,obj,c));});
      g.addEventListener('click',function(){tell(describe(row,obj,c));});
    });
    view.rooms.forEach(function(r){var t=el('text',{x:r[1],y:r[2]+15,'class':'label room'},nodes);t.textContent=r[0];});
    D.containers.forEach(function(cn,i){
      var b=view.boxes[i];
      box(nodes,b[0],b[1],b[2],cn[0],'container'+(i===real?' real':used[i]?'':' unused'),cn[0]+' ('+cn[1]+')'+(i===real?': the '+D.objects[obj]+(D.plural[obj]?' are here':' is here'):''));
    });
    var who=holder?holder:'each character', deep=order===1?'':order===2?' another thinks':' others think ('+order+' minds deep)';
    question.textContent='The '+D.objects[obj]+': where '+who+' thinks'+deep+(D.plural[obj]?' they are':' it is')+', at turn '+D.turns[k]+'.';
  }
  function drawMatrix(){
    var obj=+pick.object.value, holder=pick.holder.value, order=+pick.order.value, k=shown;
    var table=document.createElement('table'); table.className='matrix';
    var head=table.insertRow(); var th=document.createElement('th'); th.textContent='holder › chain'; head.appendChild(th);
    D.objects.forEach(function(o,i){var h=document.createElement('th');h.textContent=o;if(i===obj)h.className='sel';head.appendChild(h);});
    D.rows.forEach(function(r,row){
      if((holder&&r[0]!==holder)||r[1].length>=order) return;
      var tr=table.insertRow(); var name=document.createElement('th'); name.textContent=r[2]; tr.appendChild(name);
      D.objects.forEach(function(o,i){
        var c=cell(k,i,row), td=tr.insertCell(), real=D.reality[k][i];
        td.textContent=cname(c[0])||'–';
        var cls=[]; if(i===obj) cls.push('sel'); if(c[0]>=0&&c[0]!==real) cls.push('false'); if(c[5]) cls.push('changed');
        td.className=cls.join(' '); td.title=describe(row,i,c);
        if(c[4]>=0&&c[4]!==c[0]){var m=document.createElement('span');m.className='mark';m.textContent=' ≠ '+cname(c[4]);td.appendChild(m);}
      });
    });
    matrix.replaceChildren(table);
  }
  function render(){drawGraph(); drawMatrix();}
  function show(index){
    shown=Math.max(0,Math.min(D.turns.length-1,index|0));
    var t=D.turns[shown]; slider.value=shown; turnlabel.textContent='turn '+t;
    document.body.setAttribute('data-shown-turn',String(t));
    rows.forEach(function(r){r.classList.toggle('current',parseInt(r.getAttribute('data-turn'),10)===t);});
    render();
  }
  function fromUrl(){
    var m=/(?:^|[#?&])turn=(\d+)/.exec(location.hash)||/(?:^|[?&])turn=(\d+)/.exec(location.search);
    if(!m) return null;
    var want=parseInt(m[1],10), best=0;
    D.turns.forEach(function(t,i){if(t<=want) best=i;});
    return best;
  }
  function viewFromUrl(){
    // #turn=N&object=NAME&holder=NAME&order=K: a view can be linked to (and screenshotted).
    var hash=location.hash.replace(/^#/,'').split('&'), want={};
    hash.forEach(function(p){var kv=p.split('=');if(kv.length===2)want[kv[0]]=decodeURIComponent(kv[1]);});
    if(want.object!==undefined){var i=D.objects.indexOf(want.object);if(i>=0)pick.object.value=String(i);}
    if(want.holder!==undefined&&(want.holder===''||D.cast.indexOf(want.holder)>=0))pick.holder.value=want.holder;
    if(want.order!==undefined&&+want.order>=1&&+want.order<=D.order)pick.order.value=want.order;
  }
  slider.addEventListener('input',function(){show(parseInt(slider.value,10));});
  for(var key in pick) pick[key].addEventListener('change',render);
  window.addEventListener('hashchange',function(){viewFromUrl(); var i=fromUrl(); show(i===null?shown:i);});
  viewFromUrl(); var start=fromUrl(); show(start===null?D.turns.length-1:start);
})();
